import { randomBytes } from "node:crypto";
import { certSigningAlgorithm, generateKeys, type KeySpec } from "./keys.js";
import { x509 } from "./x509.js";

export interface Issuer {
  cert: x509.X509Certificate;
  key: CryptoKey;
  spec: KeySpec;
}

export interface IssueParams {
  /** Distinguished name, e.g. `CN=Zoë Ångström, O=Example Bank`. */
  subject: string;
  spec: KeySpec;
  /** Absent: self-signed. */
  issuer?: Issuer;
  notBefore: Date;
  notAfter: Date;
  /** Present: a CA certificate (basicConstraints cA=true) with this path length. */
  ca?: { pathLength?: number };
  /** Key-usage bits; null issues a certificate with no keyUsage extension at all. */
  keyUsage: x509.KeyUsageFlags | null;
  eku?: { oids: string[]; critical?: boolean };
  emails?: string[];
}

export interface Issued {
  cert: x509.X509Certificate;
  keys: CryptoKeyPair;
  spec: KeySpec;
}

/** Issue one X.509 v3 certificate with the extensions RFC 5280 path validation looks at. */
export async function issueCertificate(p: IssueParams): Promise<Issued> {
  const keys = await generateKeys(p.spec);
  const extensions: x509.Extension[] = [
    new x509.BasicConstraintsExtension(!!p.ca, p.ca?.pathLength, true),
    await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
  ];
  if (p.keyUsage !== null) extensions.push(new x509.KeyUsagesExtension(p.keyUsage, true));
  if (p.eku) extensions.push(new x509.ExtendedKeyUsageExtension(p.eku.oids, p.eku.critical ?? false));
  if (p.emails?.length) {
    extensions.push(
      new x509.SubjectAlternativeNameExtension(p.emails.map((e) => ({ type: "email" as const, value: e }))),
    );
  }
  if (p.issuer) extensions.push(await x509.AuthorityKeyIdentifierExtension.create(p.issuer.cert));
  // Positive 128-bit serial (RFC 5280 4.1.2.2 allows up to 20 octets).
  const serial = randomBytes(16);
  serial[0] = (serial[0] ?? 0) & 0x7f;
  const common = {
    serialNumber: serial.toString("hex"),
    notBefore: p.notBefore,
    notAfter: p.notAfter,
    extensions,
    signingAlgorithm: certSigningAlgorithm(p.issuer?.spec ?? p.spec),
  };
  const cert = p.issuer
    ? await x509.X509CertificateGenerator.create({
        ...common,
        subject: p.subject,
        issuer: p.issuer.cert.subject,
        publicKey: keys.publicKey,
        signingKey: p.issuer.key,
      })
    : await x509.X509CertificateGenerator.createSelfSigned({ ...common, name: p.subject, keys });
  return { cert, keys, spec: p.spec };
}
