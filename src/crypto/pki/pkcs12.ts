import * as pkijs from "pkijs";
import { SealgateError } from "../../core/errors.js";
import { x509 } from "./x509.js";

/*
 * PKCS#12 (.p12/.pfx) with pkijs: written as OpenSSL 3 writes them by default (PBES2 with
 * AES-256-CBC and PBKDF2-HMAC-SHA256 for the bags, HMAC-SHA256 MAC), read in that form. Legacy
 * RC2/3DES files are refused with the command that converts them.
 */

const KEY_BAG = "1.2.840.113549.1.12.10.1.2";
const CERT_BAG = "1.2.840.113549.1.12.10.1.3";
const ITERATIONS = 100_000;

function utf8(password: string): ArrayBuffer {
  const b = Buffer.from(password, "utf8");
  return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;
}

const engine = () => pkijs.getCrypto(true);

export async function writePkcs12(
  pkcs8: ArrayBuffer,
  chain: readonly x509.X509Certificate[],
  password: string,
): Promise<Uint8Array> {
  const pass = utf8(password);
  const keyInfo = pkijs.PrivateKeyInfo.fromBER(pkcs8);
  const certBags = chain.map(
    (c) =>
      new pkijs.SafeBag({
        bagId: CERT_BAG,
        bagValue: new pkijs.CertBag({ parsedValue: pkijs.Certificate.fromBER(c.rawData) }),
      }),
  );
  const keyBag = new pkijs.SafeBag({
    bagId: KEY_BAG,
    bagValue: new pkijs.PKCS8ShroudedKeyBag({ parsedValue: keyInfo }),
  });
  const encryption = {
    password: pass,
    // pkijs draws the IV itself; its type asks for one anyway.
    contentEncryptionAlgorithm: {
      name: "AES-CBC",
      length: 256,
    } as unknown as pkijs.ContentEncryptionAlgorithm,
    hmacHashAlgorithm: "SHA-256",
    iterationCount: ITERATIONS,
  };
  await (keyBag.bagValue as pkijs.PKCS8ShroudedKeyBag).makeInternalValues(encryption, engine());
  const pfx = new pkijs.PFX({
    parsedValue: {
      integrityMode: 0,
      authenticatedSafe: new pkijs.AuthenticatedSafe({
        parsedValue: {
          safeContents: [
            { privacyMode: 0, value: new pkijs.SafeContents({ safeBags: [keyBag] }) },
            { privacyMode: 1, value: new pkijs.SafeContents({ safeBags: certBags }) },
          ],
        },
      }),
    },
  });
  await pfx.parsedValue!.authenticatedSafe!.makeInternalValues({ safeContents: [{}, encryption] }, engine());
  await pfx.makeInternalValues(
    { password: pass, iterations: ITERATIONS, pbkdf2HashAlgorithm: "SHA-256", hmacHashAlgorithm: "SHA-256" },
    engine(),
  );
  return new Uint8Array(pfx.toSchema().toBER(false));
}

interface Decryptable {
  parseInternalValues(p: { password: ArrayBuffer }, crypto?: pkijs.ICryptoEngine): Promise<void>;
}

export interface Pkcs12Contents {
  pkcs8: Uint8Array;
  certificates: x509.X509Certificate[];
}

/** Open a PKCS#12 file: MAC checked, key and certificates decrypted. */
export async function readPkcs12(der: Uint8Array, password: string, source: string): Promise<Pkcs12Contents> {
  const pass = utf8(password);
  let pfx: pkijs.PFX;
  try {
    pfx = pkijs.PFX.fromBER(der.buffer.slice(der.byteOffset, der.byteOffset + der.byteLength) as ArrayBuffer);
  } catch (cause) {
    throw new SealgateError("KEY_UNREADABLE", `${source} is not a PKCS#12 file`, { cause });
  }
  try {
    await pfx.parseInternalValues({ password: pass, checkIntegrity: true }, engine());
  } catch (cause) {
    throw new SealgateError(
      "KEY_UNREADABLE",
      `${source}: wrong passphrase or damaged file (the PKCS#12 integrity check failed)`,
      { cause },
    );
  }
  const safe = pfx.parsedValue?.authenticatedSafe;
  if (!safe) throw new SealgateError("KEY_UNREADABLE", `${source}: PKCS#12 file without contents`);
  try {
    await safe.parseInternalValues(
      { safeContents: safe.safeContents.map(() => ({ password: pass })) },
      engine(),
    );
  } catch (cause) {
    throw new SealgateError(
      "KEY_UNREADABLE",
      `${source}: cannot decrypt (legacy RC2/3DES encryption?); convert with: openssl pkcs12 -in OLD.p12 -legacy -nodes | openssl pkcs12 -export -out NEW.p12`,
      { cause },
    );
  }
  let pkcs8: Uint8Array | undefined;
  const certificates: x509.X509Certificate[] = [];
  for (const contents of safe.parsedValue?.safeContents ?? []) {
    for (const bag of contents.value.safeBags) {
      if (bag.bagId === KEY_BAG) {
        const shrouded = bag.bagValue as pkijs.PKCS8ShroudedKeyBag;
        // Declared protected in pkijs's typings, yet it is the documented way to decrypt a key bag.
        await (shrouded as unknown as Decryptable).parseInternalValues({ password: pass }, engine());
        pkcs8 = new Uint8Array(shrouded.parsedValue!.toSchema().toBER(false));
      } else if (bag.bagId === CERT_BAG) {
        const parsed = (bag.bagValue as pkijs.CertBag).parsedValue;
        if (parsed instanceof pkijs.Certificate) {
          certificates.push(new x509.X509Certificate(parsed.toSchema().toBER(false)));
        }
      }
    }
  }
  if (!pkcs8) throw new SealgateError("KEY_UNREADABLE", `${source}: no private key inside`);
  return { pkcs8, certificates };
}
