import { z } from "zod";
import { canonicalBytes } from "./canonical.js";
import { Digest } from "./schema.js";

/*
 * The seal object: what one seal of a record produced and was judged by, stored in the
 * EvidenceStore (RFC 8785 bytes) before the record's ledger entry, which names it. With it the
 * ledger alone reaches every byte of a seal: the record's renderings (JWS, CMS, PDF), the review
 * package and the routing policy, so `verify --store` and an independent verifier can walk
 * them (FORMAT.md, the reference graph) without the derived index/sealed.jsonl.
 */

export const SEAL_TYPE = "sealgate.seal/1";

export const Seal = z.strictObject({
  type: z.literal(SEAL_TYPE),
  record: Digest.describe("object: the promotion record (RFC 8785 bytes)"),
  jws: Digest.describe("object: the record's JWS (flattened JSON serialization, RFC 8785 bytes)"),
  cms: Digest.describe("object: the record's detached CMS signature (DER)"),
  pdf: Digest.describe("object: the signed record PDF"),
  package: Digest.describe("object: the review package (RFC 8785 bytes)"),
  policy: Digest.describe("object: the routing policy file's exact bytes, as the record cites them"),
  modelSignature: Digest.optional().describe("object: the OpenSSF model-signing Sigstore bundle"),
  reviewPdfs: z.array(Digest).optional().describe("objects: the review PDFs the approvers were shown"),
  events: z.array(Digest).optional().describe("objects: the event objects of the record's cycle"),
});
export type Seal = z.infer<typeof Seal>;

/** The seal object's stored bytes. */
export function sealBytes(seal: Seal): Uint8Array {
  return canonicalBytes(Seal.parse(seal), "seal object");
}

/** Every object a seal names besides its record, with the member that names it. */
export function sealReferences(seal: Seal): { member: string; digest: string }[] {
  return [
    { member: "jws", digest: seal.jws },
    { member: "cms", digest: seal.cms },
    { member: "pdf", digest: seal.pdf },
    { member: "package", digest: seal.package },
    { member: "policy", digest: seal.policy },
    ...(seal.modelSignature ? [{ member: "modelSignature", digest: seal.modelSignature }] : []),
    ...(seal.reviewPdfs ?? []).map((digest, i) => ({ member: `reviewPdfs[${i}]`, digest })),
    ...(seal.events ?? []).map((digest, i) => ({ member: `events[${i}]`, digest })),
  ];
}
