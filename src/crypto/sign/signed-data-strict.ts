import { X509Certificate } from "node:crypto";
import * as asn1js from "asn1js";
import * as pkijs from "pkijs";
import { x509 } from "../pki/x509.js";
import { p1363ToDer } from "./ecdsa.js";

/*
 * The parts of a CMS SignedData its signature does not cover, held to one form. pkijs reads them
 * leniently (and asn1js keeps some bytes as they came), so without these checks a changed byte
 * there could still verify. Shared by sealgate's own CMS seals and the TSA's time-stamp tokens.
 */

const ab = (b: Uint8Array): ArrayBuffer =>
  b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;
const der = (schema: asn1js.AsnType) => Buffer.from(schema.toBER(false));

/**
 * True when OpenSSL parses the bytes as one certificate and encodes it back identically, and an
 * ECDSA signature inside is minimal DER too (OpenSSL treats it as opaque bits, and the
 * JavaScript verifiers read it leniently).
 */
export function isStrictDerCertificate(bytes: Buffer): boolean {
  try {
    if (!new X509Certificate(bytes).raw.equals(bytes)) return false;
    const cert = new x509.X509Certificate(new Uint8Array(bytes));
    const sig = new Uint8Array(cert.signature);
    // The signature ends the certificate, a BIT STRING whose unused-bits count must be 0.
    if (bytes[bytes.length - sig.length - 1] !== 0) return false;
    return cert.signatureAlgorithm.name !== "ECDSA" || isMinimalEcdsaDer(sig);
  } catch {
    return false;
  }
}

/** An ECDSA Ecdsa-Sig-Value in its one DER form (what p1363ToDer writes). */
export function isMinimalEcdsaDer(bytes: Uint8Array): boolean {
  const sig = Buffer.from(bytes);
  const parsed = asn1js.fromBER(ab(new Uint8Array(sig)));
  if (parsed.offset !== sig.length || !(parsed.result instanceof asn1js.Sequence)) return false;
  const ints = parsed.result.valueBlock.value;
  if (ints.length !== 2 || !ints.every((i) => i instanceof asn1js.Integer)) return false;
  const [r, s] = ints.map((i) => {
    const v = Buffer.from((i as asn1js.Integer).valueBlock.valueHexView);
    const first = v.findIndex((x) => x !== 0);
    return v.subarray(first < 0 ? v.length - 1 : first);
  }) as [Buffer, Buffer];
  const half = Math.max(r.length, s.length);
  const pad = (x: Buffer) => Buffer.concat([Buffer.alloc(half - x.length), x]);
  return p1363ToDer(Buffer.concat([pad(r), pad(s)])).equals(sig);
}

/** RFC 5754 §2: a SHA-2 AlgorithmIdentifier's parameters are absent or NULL, and readers take both. */
function digestParamsAllowed(a: pkijs.AlgorithmIdentifier): boolean {
  const p: unknown = a.algorithmParams;
  return p === undefined || p instanceof asn1js.Null;
}

/**
 * Throws, naming the field, unless the unsigned fields are in their one form:
 * - every certificate carried is strict DER and carried exactly as verified;
 * - the signer id is exactly the signer certificate's issuer and serial (SignerInfo version 1)
 *   or its subject key identifier (version 3);
 * - digest algorithms have NULL or absent parameters;
 * - an ECDSA signature value is minimal DER.
 */
export function checkUnsignedFields(
  bytes: Uint8Array,
  signedData: pkijs.SignedData,
  si: pkijs.SignerInfo,
  signer: x509.X509Certificate,
  certs: x509.X509Certificate[],
): void {
  // pkijs hands back certificates re-encoded: the bytes carried must be exactly those.
  const carried = Buffer.from(bytes);
  for (const c of certs)
    if (!isStrictDerCertificate(Buffer.from(c.rawData)) || !carried.includes(Buffer.from(c.rawData)))
      throw new Error(`certificate "${c.subject}" is not carried in DER`);
  const signerCert = pkijs.Certificate.fromBER(ab(new Uint8Array(signer.rawData)));
  if (si.sid instanceof pkijs.IssuerAndSerialNumber) {
    const expected = new pkijs.IssuerAndSerialNumber({
      issuer: signerCert.issuer,
      serialNumber: signerCert.serialNumber,
    });
    if (si.version !== 1)
      throw new Error(
        `the signer info names its signer by issuer and serial but is version ${si.version}, not 1`,
      );
    if (!der(si.sid.toSchema()).equals(der(expected.toSchema())))
      throw new Error("the signer id is not exactly the signer certificate's issuer and serial number");
  } else {
    const ski = signer.getExtension(x509.SubjectKeyIdentifierExtension);
    const sid: unknown = si.sid;
    const given =
      sid instanceof asn1js.Constructed || sid instanceof asn1js.Primitive ? sid.valueBlock : undefined;
    const value = given && "valueHexView" in given ? Buffer.from(given.valueHexView) : undefined;
    if (si.version !== 3)
      throw new Error(
        `the signer info names its signer by key identifier but is version ${si.version}, not 3`,
      );
    if (!ski || !value || !value.equals(Buffer.from(ski.keyId, "hex")))
      throw new Error("the signer id is not exactly the signer certificate's subject key identifier");
  }
  for (const a of [...signedData.digestAlgorithms, si.digestAlgorithm])
    if (!digestParamsAllowed(a))
      throw new Error("a digest algorithm's parameters are neither absent nor NULL");
  if (signer.publicKey.algorithm.name === "ECDSA" && !isMinimalEcdsaDer(si.signature.valueBlock.valueHexView))
    throw new Error("the ECDSA signature value is not minimal DER");
}
