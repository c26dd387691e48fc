// @peculiar/x509 resolves its ASN.1 handlers through tsyringe, which needs the Reflect
// metadata polyfill loaded first; every sealgate module imports x509 from here.
import "reflect-metadata";
import { webcrypto } from "node:crypto";
import * as x509 from "@peculiar/x509";
import * as pkijs from "pkijs";

x509.cryptoProvider.set(webcrypto as unknown as Crypto);
pkijs.setEngine(
  "node-webcrypto",
  new pkijs.CryptoEngine({ name: "node-webcrypto", crypto: webcrypto as unknown as Crypto }),
);

export { x509 };
export const subtle = webcrypto.subtle;

/** Object identifiers sealgate relies on, by name. */
export const OID = {
  emailProtection: "1.3.6.1.5.5.7.3.4",
  codeSigning: "1.3.6.1.5.5.7.3.3",
  clientAuth: "1.3.6.1.5.5.7.3.2",
  timeStamping: "1.3.6.1.5.5.7.3.8",
  documentSigning: "1.3.6.1.5.5.7.3.36",
  anyExtendedKeyUsage: "2.5.29.37.0",
} as const;

/** SHA-256 of the DER certificate, lowercase hex: the fingerprint sealgate prints and pins. */
export async function fingerprint(cert: x509.X509Certificate): Promise<string> {
  return Buffer.from(await subtle.digest("SHA-256", cert.rawData)).toString("hex");
}

/** Every certificate in a PEM bundle, in file order. */
export function parsePemCertificates(pem: string, source: string): x509.X509Certificate[] {
  const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  return blocks.map((b, i) => {
    try {
      return new x509.X509Certificate(b);
    } catch (cause) {
      throw new Error(`${source}: certificate #${i + 1} is not valid DER inside its PEM block`, { cause });
    }
  });
}

export function toPem(der: ArrayBuffer | Uint8Array, label: string): string {
  const b64 = Buffer.from(der instanceof Uint8Array ? der : new Uint8Array(der)).toString("base64");
  return `-----BEGIN ${label}-----\n${b64.replace(/.{1,64}/g, "$&\n")}-----END ${label}-----\n`;
}
