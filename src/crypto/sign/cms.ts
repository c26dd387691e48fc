import { createHash } from "node:crypto";
import * as asn1js from "asn1js";
import * as pkijs from "pkijs";
import { SealgateError } from "../../core/errors.js";
import type { Trust } from "../pki/trust.js";
import { type Purpose, validatePath } from "../pki/validate.js";
import { x509 } from "../pki/x509.js";
import * as DER from "./der.js";
import { p1363ToDer } from "./ecdsa.js";
import { hashOf } from "./key-signer.js";
import { checkUnsignedFields } from "./signed-data-strict.js";
import type { SignatureAlgorithm, Signer } from "./signer.js";
import { type VerifiedTimestamp, verifyTimestamp } from "./timestamp.js";

/*
 * CMS SignedData (RFC 5652), detached, DER: the `.p7s` beside each record, verifiable with
 * the one command opensslCmsVerifyCommand prints. Signed attributes:
 * contentType, signingTime, messageDigest and ESS signingCertificateV2 (RFC 5035), which makes
 * it CAdES-BES. The signature comes from a Signer, so the key may live in a device.
 */

const OIDS = {
  data: "1.2.840.113549.1.7.1",
  signedData: "1.2.840.113549.1.7.2",
  contentType: "1.2.840.113549.1.9.3",
  messageDigest: "1.2.840.113549.1.9.4",
  signingTime: "1.2.840.113549.1.9.5",
  signingCertificateV2: "1.2.840.113549.1.9.16.2.47",
  /** CAdES-T: an RFC 3161 token over the SignerInfo's signature value (RFC 3161 appendix A). */
  signatureTimeStampToken: "1.2.840.113549.1.9.16.2.14",
  sha256: "2.16.840.1.101.3.4.2.1",
  sha384: "2.16.840.1.101.3.4.2.2",
  rsaPss: "1.2.840.113549.1.1.10",
  mgf1: "1.2.840.113549.1.1.8",
};

const SIG_OID: Record<SignatureAlgorithm, string> = {
  ES256: "1.2.840.10045.4.3.2",
  ES384: "1.2.840.10045.4.3.3",
  RS256: "1.2.840.113549.1.1.11",
  RS384: "1.2.840.113549.1.1.12",
  PS256: OIDS.rsaPss,
  PS384: OIDS.rsaPss,
};

const ab = (b: Uint8Array): ArrayBuffer =>
  b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;

function hashAlgId(alg: SignatureAlgorithm) {
  return new pkijs.AlgorithmIdentifier({
    algorithmId: hashOf(alg) === "sha384" ? OIDS.sha384 : OIDS.sha256,
    algorithmParams: new asn1js.Null(),
  });
}

function signatureAlgId(alg: SignatureAlgorithm) {
  if (alg === "PS256" || alg === "PS384") {
    const hash = hashAlgId(alg);
    const params = new pkijs.RSASSAPSSParams({
      hashAlgorithm: hash,
      maskGenAlgorithm: new pkijs.AlgorithmIdentifier({
        algorithmId: OIDS.mgf1,
        algorithmParams: hash.toSchema(),
      }),
      saltLength: alg === "PS256" ? 32 : 48,
    });
    return new pkijs.AlgorithmIdentifier({ algorithmId: OIDS.rsaPss, algorithmParams: params.toSchema() });
  }
  return new pkijs.AlgorithmIdentifier({
    algorithmId: SIG_OID[alg],
    ...(alg[0] === "R" ? { algorithmParams: new asn1js.Null() } : {}),
  });
}

/**
 * The one `openssl cms -verify` command sealgate prints anywhere (FORMAT.md section 4, VERIFY.md,
 * the record PDF, the demo). `-purpose smimesign` is explicit because OpenSSL 3.0 has no purpose
 * for documentSigning or codeSigning; the sealing certificate carries emailProtection for it, and
 * so do approver certificates, which is why the signer written to `signerOut` must then be
 * compared with the bundle's sealing certificate by fingerprint. `-attime` is the signing time in
 * whole Unix seconds, rounded down, so a certificate valid at the signing instant is valid then.
 */
export function opensslCmsVerifyCommand(p: {
  p7s: string;
  content: string;
  root: string;
  signingTime: Date | string;
  signerOut: string;
}): string {
  const attime = Math.floor(new Date(p.signingTime).getTime() / 1000);
  return (
    `openssl cms -verify -binary -inform DER -in ${p.p7s} -content ${p.content} -CAfile ${p.root} ` +
    `-purpose smimesign -attime ${attime} -signer ${p.signerOut} -out /dev/null`
  );
}

/** What a signer's CMS signatures share, encoded once per signer. */
interface SignerConstants {
  digestAlgorithm: Buffer;
  signatureAlgorithm: Buffer;
  /** IssuerAndSerialNumber of the signer certificate. */
  sid: Buffer;
  /** The ESS signingCertificateV2 attribute: binds the signature to this exact certificate (CAdES-BES). */
  signingCertificate: Buffer;
  /** `certificates` [0] IMPLICIT: the chain's DER, signer first, exactly as loaded. */
  certificates: Buffer;
}
const constants = new WeakMap<Signer, SignerConstants>();

function constantsOf(signer: Signer): SignerConstants {
  let c = constants.get(signer);
  if (c) return c;
  const leafDer = new Uint8Array(signer.chain[0]!.rawData);
  const leaf = pkijs.Certificate.fromBER(ab(leafDer));
  const issuer = Buffer.from(leaf.issuer.toSchema().toBER(false));
  const serial = Buffer.from(leaf.serialNumber.toBER(false));
  const essCertIdV2 = DER.sequence(
    // hashAlgorithm omitted: DEFAULT id-sha256.
    DER.octetString(createHash("sha256").update(leafDer).digest()),
    // IssuerSerial: GeneralNames holding the issuer as directoryName [4], then the serial.
    DER.sequence(DER.sequence(DER.contextTag(4, issuer)), serial),
  );
  c = {
    digestAlgorithm: Buffer.from(hashAlgId(signer.algorithm).toSchema().toBER(false)),
    signatureAlgorithm: Buffer.from(signatureAlgId(signer.algorithm).toSchema().toBER(false)),
    sid: DER.sequence(issuer, serial),
    signingCertificate: attribute(OIDS.signingCertificateV2, DER.sequence(DER.sequence(essCertIdV2))),
    certificates: DER.contextTag(0, ...signer.chain.map((cert) => new Uint8Array(cert.rawData))),
  };
  constants.set(signer, c);
  return c;
}

/** Attribute ::= SEQUENCE { attrType OID, attrValues SET OF value } with one value. */
const attribute = (type: string, value: Buffer) => DER.sequence(DER.objectIdentifier(type), DER.setOf(value));

/**
 * `signingTime` null leaves the signingTime attribute out: PAdES baseline signatures carry the
 * time in the signature dictionary (/M) instead (ETSI EN 319 142-1).
 */
export async function signCmsDetached(
  data: Uint8Array,
  signer: Signer,
  signingTime: Date | null,
): Promise<Uint8Array> {
  const alg = signer.algorithm;
  const c = constantsOf(signer);
  const attributes = [
    attribute(OIDS.contentType, DER.objectIdentifier(OIDS.data)),
    attribute(OIDS.messageDigest, DER.octetString(createHash(hashOf(alg)).update(data).digest())),
    c.signingCertificate,
    ...(signingTime ? [attribute(OIDS.signingTime, DER.time(signingTime))] : []),
  ];
  // The signature covers the attributes as a DER SET OF; the SignerInfo carries the same
  // contents under [0] IMPLICIT.
  const signedAttrs = DER.setOf(...attributes);
  const raw = await signer.sign(signedAttrs);
  const signature = alg[0] === "E" ? p1363ToDer(raw) : Buffer.from(raw);
  const token = await signer.timestamper?.stamp(signature);
  const signerInfo = DER.sequence(
    DER.smallInteger(1),
    c.sid,
    c.digestAlgorithm,
    DER.contextTag(0, DER.contentsOf(signedAttrs)),
    c.signatureAlgorithm,
    DER.octetString(signature),
    // unsignedAttrs [1] IMPLICIT SET OF Attribute: the one signature time-stamp.
    ...(token ? [DER.contextTag(1, attribute(OIDS.signatureTimeStampToken, Buffer.from(token)))] : []),
  );
  const signedData = DER.sequence(
    DER.smallInteger(1),
    DER.setOf(c.digestAlgorithm),
    DER.sequence(DER.objectIdentifier(OIDS.data)),
    c.certificates,
    DER.setOf(signerInfo),
  );
  return new Uint8Array(DER.sequence(DER.objectIdentifier(OIDS.signedData), DER.contextTag(0, signedData)));
}

export interface VerifiedCms {
  signer: x509.X509Certificate;
  signingTime: Date;
  path: x509.X509Certificate[];
  /** The verified CAdES-T time-stamp, when the signature carries one. */
  timestamp?: VerifiedTimestamp;
}

const bad = (msg: string, cause?: unknown) =>
  new SealgateError("SIGNATURE_MALFORMED", `CMS: ${msg}`, cause ? { cause } : undefined);

const der = (schema: asn1js.AsnType) => Buffer.from(schema.toBER(false));

/** A detached SignedData read and checked for shape, before its signature or chain is checked. */
export interface DecodedCms {
  p7s: Buffer;
  signedData: pkijs.SignedData;
  si: pkijs.SignerInfo;
  /** The signer's claimed time: signingTime, or the PDF's /M. */
  signingTime: Date;
  attr: (oid: string) => unknown;
  /** The CAdES-T signature time-stamp token (DER), when there is one; unchecked until verifyCmsTimestamp. */
  timestamp?: Uint8Array;
  /** The SignerInfo's signature value: the bytes the time-stamp covers. */
  signatureValue: Uint8Array;
}

/** Canonical DER, version 1 over id-data, detached, one signer with signingTime and contentType. */
export function decodeCmsDetached(
  p7s: Uint8Array,
  /** The signing time when the CMS carries none (PAdES: the signature dictionary's /M). */
  claimedTime?: Date,
): DecodedCms {
  let signedData: pkijs.SignedData;
  try {
    const info = pkijs.ContentInfo.fromBER(ab(p7s));
    if (info.contentType !== OIDS.signedData) throw new Error(`content type ${info.contentType}`);
    signedData = new pkijs.SignedData({ schema: info.content });
    // Only one encoding is accepted: the DER sealgate wrote. This leaves no unsigned byte
    // (version, digest list, certificate set) that can change without being noticed.
    if (!Buffer.from(info.toSchema().toBER(false)).equals(Buffer.from(p7s)))
      throw new Error("not canonical DER");
  } catch (cause) {
    throw bad(`not a DER SignedData (${(cause as Error).message})`, cause);
  }
  if (signedData.version !== 1 || signedData.encapContentInfo.eContentType !== OIDS.data) {
    throw bad("expected version 1 SignedData over id-data");
  }
  if (signedData.encapContentInfo.eContent) throw bad("expected a detached signature (no embedded content)");
  const si = signedData.signerInfos[0];
  if (signedData.signerInfos.length !== 1 || !si?.signedAttrs)
    throw bad("expected one signer with signed attributes");
  const attr = (oid: string) => si.signedAttrs!.attributes.find((a) => a.type === oid)?.values[0];
  const time = attr(OIDS.signingTime);
  const signingTime =
    time instanceof asn1js.UTCTime || time instanceof asn1js.GeneralizedTime
      ? time.toDate()
      : (claimedTime ?? null);
  if (!signingTime) throw bad("signingTime attribute missing");
  const ct = attr(OIDS.contentType);
  if (!(ct instanceof asn1js.ObjectIdentifier) || ct.valueBlock.toString() !== OIDS.data) {
    throw bad("contentType attribute is not id-data");
  }
  const timestamp = signatureTimestamp(si);
  const signatureValue = new Uint8Array(si.signature.valueBlock.valueHexView);
  return {
    p7s: Buffer.from(p7s),
    signedData,
    si,
    signingTime,
    attr,
    signatureValue,
    ...(timestamp ? { timestamp } : {}),
  };
}

/** The unsigned attributes allowed: none, or exactly one signature time-stamp with one token. */
function signatureTimestamp(si: pkijs.SignerInfo): Uint8Array | undefined {
  const attrs = si.unsignedAttrs?.attributes;
  if (!attrs) return undefined;
  const [a] = attrs;
  if (attrs.length !== 1 || a?.type !== OIDS.signatureTimeStampToken || a.values.length !== 1)
    throw bad("the only unsigned attribute allowed is one signature time-stamp token");
  return new Uint8Array(der(a.values[0] as asn1js.AsnType));
}

/**
 * The CAdES-T signature time-stamp, if present: its token verifies (TSA signature, timeStamping
 * EKU, chain to `trust` at its genTime) and covers exactly this SignerInfo's signature value.
 * Its genTime is the time certificates are then judged at, never the claimed signingTime.
 */
export async function verifyCmsTimestamp(
  d: DecodedCms,
  trust: Trust,
): Promise<VerifiedTimestamp | undefined> {
  return d.timestamp && verifyTimestamp(d.timestamp, d.signatureValue, trust);
}

/**
 * The hash an ESSCertIDv2 names its certificate with: SHA-256 when its hashAlgorithm is left out
 * (the DEFAULT, RFC 5035), else the one given; OpenSSL gives the signature's own digest.
 */
function essCertHash(first: asn1js.AsnType | undefined): "sha256" | "sha384" | "sha512" | undefined {
  if (!(first instanceof asn1js.Sequence)) return "sha256";
  const oid = first.valueBlock.value[0];
  if (!(oid instanceof asn1js.ObjectIdentifier)) return undefined;
  return ESS_HASHES[oid.valueBlock.toString()];
}

const ESS_HASHES: Record<string, "sha256" | "sha384" | "sha512"> = {
  [OIDS.sha256]: "sha256",
  [OIDS.sha384]: "sha384",
  "2.16.840.1.101.3.4.2.3": "sha512",
};

/** The signature over `data`, and the signingCertificateV2 naming the certificate that made it. */
export async function verifyCmsSignature(
  d: DecodedCms,
  data: Uint8Array,
): Promise<{ signer: x509.X509Certificate; others: x509.X509Certificate[] }> {
  const { signedData, si, attr } = d;
  let result: pkijs.SignedDataVerifyResult;
  try {
    result = await signedData.verify({ signer: 0, data: ab(data), checkChain: false, extendedMode: true });
  } catch (cause) {
    const message = (cause as { message?: string }).message ?? String(cause);
    throw new SealgateError("SIGNATURE_INVALID", `CMS: signature does not verify (${message})`, { cause });
  }
  if (!result.signatureVerified || !result.signerCertificate) {
    throw new SealgateError("SIGNATURE_INVALID", "CMS: signature does not verify over these bytes");
  }
  const signerDer = new Uint8Array(result.signerCertificate.toSchema().toBER(false));
  const ess = attr(OIDS.signingCertificateV2);
  const essHash = (ess as asn1js.Sequence | undefined)?.valueBlock.value[0] as asn1js.Sequence | undefined;
  const certId = essHash?.valueBlock.value[0] as asn1js.Sequence | undefined;
  const hashField = certId?.valueBlock.value.find((v) => v instanceof asn1js.OctetString) as
    asn1js.OctetString | undefined;
  const hash = essCertHash(certId?.valueBlock.value[0]);
  const expected = hash && createHash(hash).update(signerDer).digest();
  if (!hashField || !expected || !Buffer.from(hashField.valueBlock.valueHexView).equals(expected)) {
    throw new SealgateError(
      "SIGNATURE_INVALID",
      "CMS: signingCertificateV2 does not name the signer's certificate",
    );
  }
  const signer = new x509.X509Certificate(signerDer);
  const others = (signedData.certificates ?? [])
    .filter((c): c is pkijs.Certificate => c instanceof pkijs.Certificate)
    .map((c) => new x509.X509Certificate(c.toSchema().toBER(false)));
  const digest = si.digestAlgorithm.algorithmId;
  if (!signedData.digestAlgorithms.some((d) => d.algorithmId === digest)) {
    throw bad("the signer's digest algorithm is missing from digestAlgorithms");
  }
  return { signer, others };
}

/**
 * The signer's path to `trust` at signingTime, then the certificates carried: each part of that
 * path and in the one DER form, like the rest of the unsigned fields.
 */
export async function checkCmsCertificates(
  d: DecodedCms,
  signed: { signer: x509.X509Certificate; others: x509.X509Certificate[] },
  trust: Trust,
  purpose: Purpose = "sealing",
  /** The time-stamped time, when a verified token gives one; else the claimed signingTime. */
  at: Date = d.signingTime,
): Promise<x509.X509Certificate[]> {
  const { signer, others } = signed;
  const { path } = await validatePath(signer, others, trust, { at, purpose });
  const inPath = (c: x509.X509Certificate) =>
    path.some((p) => Buffer.from(p.rawData).equals(Buffer.from(c.rawData)));
  if (!others.every(inPath)) throw bad("carries a certificate that is not part of the signer's chain");
  try {
    if (d.si.version !== 1) throw new Error(`the signer info is version ${d.si.version}, not 1`);
    checkUnsignedFields(d.p7s, d.signedData, d.si, signer, [signer, ...others]);
  } catch (e) {
    throw bad((e as Error).message);
  }
  return path;
}

/** Verify a detached `.p7s` over `data`: signature, signed attributes, then the chain at signingTime. */
export async function verifyCmsDetached(
  p7s: Uint8Array,
  data: Uint8Array,
  trust: Trust,
  purpose: Purpose = "sealing",
  /** The signing time when the CMS carries none (PAdES: the signature dictionary's /M). */
  claimedTime?: Date,
): Promise<VerifiedCms> {
  const d = decodeCmsDetached(p7s, claimedTime);
  const timestamp = await verifyCmsTimestamp(d, trust);
  const signed = await verifyCmsSignature(d, data);
  const path = await checkCmsCertificates(d, signed, trust, purpose, timestamp?.genTime);
  return { signer: signed.signer, signingTime: d.signingTime, path, ...(timestamp ? { timestamp } : {}) };
}
