import { createPublicKey, verify as nodeVerify } from "node:crypto";
import { z } from "zod";
import { SealgateError } from "../../core/errors.js";
import type { Trust } from "../pki/trust.js";
import { type Purpose, validatePath } from "../pki/validate.js";
import { x509 } from "../pki/x509.js";
import { fromB64 } from "./base64.js";
import { p1363ToDer } from "./ecdsa.js";
import type { Signer } from "./signer.js";

/*
 * A DSSE envelope (secure-systems-lab/dsse v1.0.0) inside a Sigstore bundle v0.3 with an X.509
 * certificate chain and no transparency-log entries: the form OpenSSF model_signing writes and
 * reads for its `certificate` method, so any deployment system that runs `model_signing verify
 * certificate` can check what sealgate signed. The signature is ASN.1 DER ECDSA over the PAE
 * bytes, hashed with the curve's own hash (P-256: SHA-256, P-384: SHA-384); model_signing
 * accepts no other key type.
 */

export const SIGSTORE_BUNDLE_V03 = "application/vnd.dev.sigstore.bundle.v0.3+json";

const B64 = z.string().regex(/^[A-Za-z0-9+/]*={0,2}$/, "standard base64");

export const SigstoreBundle = z.strictObject({
  mediaType: z.literal(SIGSTORE_BUNDLE_V03),
  verificationMaterial: z.strictObject({
    x509CertificateChain: z.strictObject({
      certificates: z
        .array(z.strictObject({ rawBytes: B64 }))
        .min(1)
        .max(10),
    }),
    tlogEntries: z.array(z.unknown()).max(0),
  }),
  dsseEnvelope: z.strictObject({
    payload: B64,
    payloadType: z.string().min(1),
    signatures: z.array(z.strictObject({ sig: B64, keyid: z.string() })).length(1),
  }),
});
export type SigstoreBundle = z.infer<typeof SigstoreBundle>;

/** DSSE's pre-authentication encoding: "DSSEv1" SP LEN(type) SP type SP LEN(body) SP body. */
export function pae(payloadType: string, payload: Uint8Array): Buffer {
  const type = Buffer.from(payloadType, "utf8");
  return Buffer.concat([
    Buffer.from(`DSSEv1 ${type.length} `, "ascii"),
    type,
    Buffer.from(` ${payload.length} `, "ascii"),
    payload,
  ]);
}

export async function signDsseBundle(
  signer: Signer,
  payloadType: string,
  payload: Uint8Array,
): Promise<SigstoreBundle> {
  if (signer.algorithm !== "ES256" && signer.algorithm !== "ES384") {
    throw new SealgateError(
      "KEY_UNSUPPORTED",
      `model_signing's certificate method verifies ECDSA P-256 or P-384 signatures only; the sealing key is ${signer.algorithm}: use an EC sealing key to write model signatures`,
    );
  }
  const sig = p1363ToDer(await signer.sign(pae(payloadType, payload)));
  return {
    mediaType: SIGSTORE_BUNDLE_V03,
    verificationMaterial: {
      x509CertificateChain: {
        certificates: signer.chain.map((c) => ({ rawBytes: Buffer.from(c.rawData).toString("base64") })),
      },
      tlogEntries: [],
    },
    dsseEnvelope: {
      payload: Buffer.from(payload).toString("base64"),
      payloadType,
      signatures: [{ sig: sig.toString("base64"), keyid: "" }],
    },
  };
}

export interface VerifiedDsse {
  payloadType: string;
  payload: Buffer;
  signer: x509.X509Certificate;
}

const malformed = (msg: string) => new SealgateError("SIGNATURE_MALFORMED", `Sigstore bundle: ${msg}`);

/** Parse untrusted bytes, check the signature by the first certificate, then its path at `at`. */
export async function verifyDsseBundle(
  bytes: Uint8Array,
  trust: Trust,
  opts: { purpose: Purpose; at: Date; payloadType?: string },
): Promise<VerifiedDsse> {
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(bytes).toString("utf8"));
  } catch {
    throw malformed("not JSON");
  }
  const parsed = SigstoreBundle.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw malformed(`${issue.path.join(".") || "(root)"}: ${issue.message}`);
  }
  const { verificationMaterial: vm, dsseEnvelope: env } = parsed.data;
  if (opts.payloadType && env.payloadType !== opts.payloadType)
    throw malformed(`payloadType is ${env.payloadType}, expected ${opts.payloadType}`);
  let certs: x509.X509Certificate[];
  try {
    certs = vm.x509CertificateChain.certificates.map(
      (c, i) => new x509.X509Certificate(new Uint8Array(fromB64(c.rawBytes, `certificates[${i}]`))),
    );
  } catch (cause) {
    throw new SealgateError("SIGNATURE_MALFORMED", "Sigstore bundle: unreadable certificate", { cause });
  }
  const signer = certs[0]!;
  const payload = fromB64(env.payload, "payload");
  const key = createPublicKey({ key: Buffer.from(signer.publicKey.rawData), format: "der", type: "spki" });
  const curve = key.asymmetricKeyDetails?.namedCurve;
  const hash = curve === "prime256v1" ? "sha256" : curve === "secp384r1" ? "sha384" : undefined;
  if (key.asymmetricKeyType !== "ec" || !hash)
    throw new SealgateError(
      "SIGNATURE_ALGORITHM_MISMATCH",
      "Sigstore bundle: signer key is not EC P-256/P-384",
    );
  const ok = nodeVerify(
    hash,
    pae(env.payloadType, payload),
    { key, dsaEncoding: "der" },
    fromB64(env.signatures[0]!.sig, "sig"),
  );
  if (!ok)
    throw new SealgateError(
      "SIGNATURE_INVALID",
      `Sigstore bundle: signature by "${signer.subject}" does not verify`,
    );
  await validatePath(signer, certs.slice(1), trust, opts);
  return { payloadType: env.payloadType, payload, signer };
}
