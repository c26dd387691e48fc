import { constants, createHash, createPublicKey, verify as nodeVerify } from "node:crypto";
import { SealgateError } from "../../core/errors.js";
import type { Trust } from "../../crypto/pki/trust.js";
import { validatePath } from "../../crypto/pki/validate.js";
import { x509 } from "../../crypto/pki/x509.js";
import { fromB64 } from "../../crypto/sign/base64.js";
import { p1363ToDer } from "../../crypto/sign/ecdsa.js";
import type { Signer } from "../../crypto/sign/signer.js";
import { type VerifiedTimestamp, verifyTimestamp } from "../../crypto/sign/timestamp.js";

/*
 * Checkpoints: C2SP tlog-checkpoint notes signed per C2SP signed-note.
 *
 *   <origin>\n<tree size>\n<base64 root hash>\ntime <RFC 3339 UTC>\n
 *   \n
 *   — <origin> base64(key id (4 bytes) || signature)\n
 *
 * ECDSA keys use signature type 0x02 exactly as C2SP signed-note assigns it (the
 * transparency-dev/witness format): its key id is SHA-256(DER SPKI)[:4], NOT the
 * name||0x0A||type||key formula the spec recommends for other types, and the signature is ASN.1
 * DER over the note text with the curve's hash. RSA keys, which signed-note assigns no type, use 0xff
 * followed by "sealgate-rsa-pss-sha256" or "sealgate-rsa-pkcs1-sha256" in the key-id hash, so the
 * key id also fixes the padding. The signer's certificate
 * chain travels beside the note so verifiers pin it to their own trust anchors.
 */

export interface Checkpoint {
  origin: string;
  size: number;
  root: Buffer;
  time: Date;
}

export interface SignedCheckpoint {
  /** The complete signed note. */
  note: string;
  /** DER certificates, signer first: base64. */
  chain: string[];
  /**
   * An RFC 3161 TimeStampToken (DER, base64) over the first signature line's signature bytes
   * (after the 4-byte key id), when a TSA is configured.
   */
  tst?: string;
}

type Scheme = "ecdsa" | "rsa-pss" | "rsa-pkcs1";

export function checkpointText(c: Checkpoint): string {
  if (!/^[^\s+]+$/.test(c.origin))
    throw new SealgateError(
      "USAGE",
      `checkpoint origin ${JSON.stringify(c.origin)} may not contain spaces or '+'`,
    );
  return `${c.origin}\n${c.size}\n${c.root.toString("base64")}\ntime ${c.time.toISOString()}\n`;
}

function keyId(cert: x509.X509Certificate, name: string, scheme: Scheme): Buffer {
  const spki = Buffer.from(cert.publicKey.rawData);
  if (scheme === "ecdsa") return createHash("sha256").update(spki).digest().subarray(0, 4);
  return createHash("sha256")
    .update(name)
    .update(Buffer.from([0x0a, 0xff]))
    .update(`sealgate-${scheme}-sha256`)
    .update(spki)
    .digest()
    .subarray(0, 4);
}

export async function signCheckpoint(c: Checkpoint, signer: Signer): Promise<SignedCheckpoint> {
  const text = checkpointText(c);
  const alg = signer.algorithm;
  if (alg === "PS384" || alg === "RS384")
    throw new SealgateError("KEY_UNSUPPORTED", `checkpoints are not signed with ${alg}`);
  const scheme: Scheme = alg[0] === "E" ? "ecdsa" : alg === "PS256" ? "rsa-pss" : "rsa-pkcs1";
  const id = keyId(signer.chain[0]!, c.origin, scheme);
  const raw = await signer.sign(Buffer.from(text, "utf8"));
  const sig = scheme === "ecdsa" ? p1363ToDer(raw) : Buffer.from(raw);
  const tst = await signer.timestamper?.stamp(sig);
  return {
    note: `${text}\n— ${c.origin} ${Buffer.concat([id, sig]).toString("base64")}\n`,
    chain: signer.chain.map((cert) => Buffer.from(cert.rawData).toString("base64")),
    ...(tst ? { tst: Buffer.from(tst).toString("base64") } : {}),
  };
}

const bad = (msg: string) => new SealgateError("CHECKPOINT_INVALID", `checkpoint: ${msg}`);

/** Parse the note text strictly (the verifier trusts nothing it has not checked). */
export function parseCheckpoint(note: string): {
  checkpoint: Checkpoint;
  text: string;
  signatures: { name: string; sig: Buffer }[];
} {
  const sep = note.lastIndexOf("\n\n— ");
  if (sep < 0 || !note.endsWith("\n")) throw bad("not a signed note");
  if ([...note].some((ch) => ch < " " && ch !== "\n")) throw bad("control characters are not allowed");
  const text = note.slice(0, sep + 1);
  const lines = text.split("\n");
  if (lines.length !== 5 || lines[4] !== "") throw bad("expected origin, size, root and time lines");
  const [origin, size, root, time] = lines as [string, string, string, string];
  if (!/^[^\s+]+$/.test(origin)) throw bad("bad origin line");
  if (!/^(0|[1-9]\d{0,15})$/.test(size) || !Number.isSafeInteger(Number(size)))
    throw bad("bad tree size line");
  if (!/^[A-Za-z0-9+/]{43}=$/.test(root)) throw bad("root is not base64 of 32 bytes");
  const t = /^time (\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z)$/.exec(time);
  if (!t || Number.isNaN(Date.parse(t[1]!))) throw bad("bad time line");
  const signatures = note
    .slice(sep + 2)
    .split("\n")
    .filter(Boolean)
    .map((l) => {
      const m = /^— (\S+) ([A-Za-z0-9+/]+={0,2})$/.exec(l);
      if (!m) throw bad("malformed signature line");
      try {
        return { name: m[1]!, sig: fromB64(m[2]!, "signature") };
      } catch {
        throw bad("signature is not canonical base64");
      }
    });
  if (signatures.length === 0 || signatures.length > 16) throw bad("expected 1 to 16 signatures");
  return {
    checkpoint: { origin, size: Number(size), root: Buffer.from(root, "base64"), time: new Date(t[1]!) },
    text,
    signatures,
  };
}

/** A signed checkpoint parsed, with its signer's certificates, before any check of either. */
export interface DecodedCheckpoint {
  checkpoint: Checkpoint;
  text: string;
  signatures: { name: string; sig: Buffer }[];
  signer: x509.X509Certificate;
  intermediates: x509.X509Certificate[];
  /** The time-stamp token (DER), unchecked until verifyCheckpointTimestamp. */
  tst?: Buffer;
}

export function decodeCheckpoint(s: SignedCheckpoint): DecodedCheckpoint {
  const { checkpoint, text, signatures } = parseCheckpoint(s.note);
  if (!Array.isArray(s.chain) || s.chain.length === 0) throw bad("no signer certificate");
  let certs: x509.X509Certificate[];
  try {
    certs = s.chain.map((c, i) => new x509.X509Certificate(new Uint8Array(fromB64(c, `chain[${i}]`))));
  } catch {
    throw bad("unreadable signer certificate");
  }
  let tst: Buffer | undefined;
  if (s.tst !== undefined) {
    try {
      tst = fromB64(s.tst, "tst");
    } catch {
      throw bad("the time-stamp token is not canonical base64");
    }
  }
  return {
    checkpoint,
    text,
    signatures,
    signer: certs[0]!,
    intermediates: certs.slice(1),
    ...(tst ? { tst } : {}),
  };
}

/**
 * The checkpoint's time-stamp, if it has one: a token by a trusted TSA over the first signature's
 * bytes (after the key id). Its genTime is then the time the chain is judged at.
 */
export async function verifyCheckpointTimestamp(
  d: DecodedCheckpoint,
  trust: Trust,
): Promise<VerifiedTimestamp | undefined> {
  if (!d.tst) return undefined;
  return verifyTimestamp(d.tst, d.signatures[0]!.sig.subarray(4), trust);
}

/** The note signature(s) by the signer's key: every one under its key id must verify, and one must exist. */
export function verifyCheckpointSignature(d: DecodedCheckpoint): void {
  const { checkpoint, text, signatures, signer: leaf } = d;
  const key = createPublicKey({ key: Buffer.from(leaf.publicKey.rawData), format: "der", type: "spki" });
  const schemes: Scheme[] = key.asymmetricKeyType === "ec" ? ["ecdsa"] : ["rsa-pss", "rsa-pkcs1"];
  const curve = key.asymmetricKeyDetails?.namedCurve;
  let verified = 0;
  for (const scheme of schemes) {
    const id = keyId(leaf, checkpoint.origin, scheme);
    for (const m of signatures.filter(
      (x) => x.name === checkpoint.origin && x.sig.subarray(0, 4).equals(id),
    )) {
      const sig = m.sig.subarray(4);
      const data = Buffer.from(text, "utf8");
      const ok =
        scheme === "ecdsa"
          ? nodeVerify(curve === "secp384r1" ? "sha384" : "sha256", data, key, sig)
          : nodeVerify(
              "sha256",
              data,
              scheme === "rsa-pss" ? { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 } : key,
              sig,
            );
      if (!ok) {
        throw new SealgateError(
          "SIGNATURE_INVALID",
          `checkpoint at size ${checkpoint.size}: signature does not verify`,
        );
      }
      verified++;
    }
  }
  if (verified === 0) throw bad("no signature by the certificate's key");
}

/**
 * The signer's chain against `trust`, for sealing, at the time-stamped time when a verified token
 * gives one, else at the checkpoint's own (claimed) time.
 */
export async function validateCheckpointChain(
  d: DecodedCheckpoint,
  trust: Trust,
  at: Date = d.checkpoint.time,
): Promise<void> {
  await validatePath(d.signer, d.intermediates, trust, { at, purpose: "sealing" });
}

/** Verify a signed checkpoint: its time-stamp if any, the note signature by the chain's leaf, and that chain. */
export async function verifyCheckpoint(s: SignedCheckpoint, trust: Trust): Promise<Checkpoint> {
  const d = decodeCheckpoint(s);
  const ts = await verifyCheckpointTimestamp(d, trust);
  verifyCheckpointSignature(d);
  await validateCheckpointChain(d, trust, ts?.genTime);
  return d.checkpoint;
}
