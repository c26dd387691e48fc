import { createHash, createPublicKey } from "node:crypto";
import { compactVerify, flattenedVerify } from "jose";
import { SealgateError } from "../../core/errors.js";
import type { Trust } from "../pki/trust.js";
import { type Purpose, validatePath } from "../pki/validate.js";
import { x509 } from "../pki/x509.js";
import { b64u, fromB64, fromB64u } from "./base64.js";
import type { SignatureAlgorithm, Signer } from "./signer.js";

/*
 * JWS (RFC 7515) over exact bytes (sealgate signs RFC 8785 canonical JSON). Protected header:
 * alg, typ, kid = base64url(SHA-256(signer certificate DER)), x5c = [signer, intermediates...]
 * in standard base64 DER. Verification pins the chain to the configured trust anchors; a root
 * inside x5c is never trusted for being there.
 */

export interface FlattenedJws {
  protected: string;
  payload: string;
  signature: string;
}

export interface JwsHeader {
  alg: SignatureAlgorithm;
  typ: string;
  kid: string;
  x5c: string[];
}

const ALGS: readonly SignatureAlgorithm[] = ["ES256", "ES384", "PS256", "PS384", "RS256", "RS384"];

export const certKid = (cert: x509.X509Certificate) =>
  b64u(createHash("sha256").update(Buffer.from(cert.rawData)).digest());

export async function signJws(payload: Uint8Array, signer: Signer, typ: string): Promise<FlattenedJws> {
  const header: JwsHeader = {
    alg: signer.algorithm,
    typ,
    kid: certKid(signer.chain[0]!),
    x5c: signer.chain.map((c) => Buffer.from(c.rawData).toString("base64")),
  };
  const protectedB64 = b64u(JSON.stringify(header));
  const payloadB64 = b64u(payload);
  const signature = await signer.sign(Buffer.from(`${protectedB64}.${payloadB64}`, "ascii"));
  return { protected: protectedB64, payload: payloadB64, signature: b64u(signature) };
}

export const toCompact = (j: FlattenedJws) => `${j.protected}.${j.payload}.${j.signature}`;

export interface VerifiedJws {
  payload: Uint8Array;
  header: JwsHeader;
  signer: x509.X509Certificate;
  path: x509.X509Certificate[];
}

const malformed = (msg: string) => new SealgateError("SIGNATURE_MALFORMED", `JWS: ${msg}`);

function parseHeader(protectedB64: string): JwsHeader {
  let h: Record<string, unknown>;
  try {
    h = JSON.parse(fromB64u(protectedB64, "protected header").toString("utf8"));
  } catch {
    throw malformed("protected header is not base64url JSON");
  }
  if (!h || typeof h !== "object" || Array.isArray(h)) throw malformed("protected header is not an object");
  if (typeof h.alg !== "string" || !ALGS.includes(h.alg as SignatureAlgorithm)) {
    throw malformed(`alg ${JSON.stringify(h.alg)} is not one of ${ALGS.join(", ")}`);
  }
  if (typeof h.typ !== "string") throw malformed("typ missing");
  if (typeof h.kid !== "string") throw malformed("kid missing");
  if (
    !Array.isArray(h.x5c) ||
    h.x5c.length === 0 ||
    h.x5c.length > 10 ||
    !h.x5c.every((c) => typeof c === "string")
  ) {
    throw malformed("x5c must be a non-empty array of base64 certificates");
  }
  return h as unknown as JwsHeader;
}

/** The only algorithms a key may be verified under: stops RSA/ECDSA and PSS/PKCS#1 confusion. */
function allowedAlgorithms(cert: x509.X509Certificate): SignatureAlgorithm[] {
  const key = createPublicKey({ key: Buffer.from(cert.publicKey.rawData), format: "der", type: "spki" });
  if (key.asymmetricKeyType === "ec") {
    const curve = key.asymmetricKeyDetails?.namedCurve;
    return curve === "prime256v1" ? ["ES256"] : curve === "secp384r1" ? ["ES384"] : [];
  }
  if (key.asymmetricKeyType === "rsa") return ["PS256", "PS384", "RS256", "RS384"];
  return [];
}

/** A JWS read and checked for shape, before any signature or certificate check. */
export interface DecodedJws {
  jws: FlattenedJws | string;
  flat: FlattenedJws;
  header: JwsHeader;
  signer: x509.X509Certificate;
  /** The x5c certificates after the signer (intermediates, maybe a root). */
  intermediates: x509.X509Certificate[];
}

/** Header shape, canonical signature encoding, typ, kid and the algorithm bound to the key type. */
export function decodeJws(jws: FlattenedJws | string, opts: { typ?: string } = {}): DecodedJws {
  const flat: FlattenedJws =
    typeof jws === "string"
      ? (() => {
          const parts = jws.split(".");
          if (parts.length !== 3) throw malformed("compact serialization needs three parts");
          return { protected: parts[0]!, payload: parts[1]!, signature: parts[2]! };
        })()
      : jws;
  if (
    typeof flat !== "object" ||
    !flat ||
    typeof flat.protected !== "string" ||
    typeof flat.payload !== "string" ||
    typeof flat.signature !== "string"
  ) {
    throw malformed("expected protected, payload and signature strings");
  }
  const header = parseHeader(flat.protected);
  // The protected header and payload are signed as written; the signature is not, so only its
  // canonical encoding is accepted (see base64.ts).
  try {
    fromB64u(flat.signature, "signature");
  } catch {
    throw malformed("signature is not canonical base64url");
  }
  if (opts.typ && header.typ !== opts.typ) throw malformed(`typ is ${header.typ}, expected ${opts.typ}`);
  let certs: x509.X509Certificate[];
  try {
    certs = header.x5c.map((c, i) => new x509.X509Certificate(new Uint8Array(fromB64(c, `x5c[${i}]`))));
  } catch (cause) {
    throw new SealgateError("SIGNATURE_MALFORMED", `JWS: x5c holds an unreadable certificate`, { cause });
  }
  const leaf = certs[0]!;
  if (header.kid !== certKid(leaf)) throw malformed("kid does not match the SHA-256 of x5c[0]");
  if (!allowedAlgorithms(leaf).includes(header.alg)) {
    throw new SealgateError(
      "SIGNATURE_ALGORITHM_MISMATCH",
      `JWS: alg ${header.alg} does not fit the signer's ${leaf.publicKey.algorithm.name} key`,
    );
  }
  return { jws, flat, header, signer: leaf, intermediates: certs.slice(1) };
}

/** The signature by x5c[0]'s key (by jose, independent of the signer); returns the signed payload. */
export async function verifyJwsSignature(d: DecodedJws): Promise<Uint8Array> {
  const key = createPublicKey({ key: Buffer.from(d.signer.publicKey.rawData), format: "der", type: "spki" });
  try {
    const result =
      typeof d.jws === "string"
        ? await compactVerify(d.jws, key, { algorithms: [d.header.alg] })
        : await flattenedVerify(d.flat, key, { algorithms: [d.header.alg] });
    return result.payload;
  } catch (cause) {
    throw new SealgateError("SIGNATURE_INVALID", `JWS: signature by "${d.signer.subject}" does not verify`, {
      cause,
    });
  }
}

/**
 * Verify a flattened or compact JWS: its shape (decodeJws), the signature, then the x5c path to
 * the trust anchors at `at` for `purpose`.
 */
export async function verifyJws(
  jws: FlattenedJws | string,
  trust: Trust,
  opts: { purpose: Purpose; at: Date; typ?: string },
): Promise<VerifiedJws> {
  const d = decodeJws(jws, opts);
  const payload = await verifyJwsSignature(d);
  const { path } = await validatePath(d.signer, d.intermediates, trust, opts);
  return { payload, header: d.header, signer: d.signer, path };
}
