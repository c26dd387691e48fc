import { z } from "zod";
import { SealgateError } from "../../core/errors.js";
import type { SealEntry } from "../../evidence/store/seal-index.js";
import { canonicalBytes } from "../../record/canonical.js";
import { PromotionRecord } from "../../record/schema.js";
import { b64u } from "../../crypto/sign/base64.js";
import { signJws } from "../../crypto/sign/jws.js";
import type { Signer } from "../../crypto/sign/signer.js";
import type { EvidenceStore } from "../../evidence/store/evidence-store.js";
import {
  type DeliveryView,
  proofFor,
  recordEntryAt,
  StoredCheckpoint,
} from "../../evidence/ledger/delivery-view.js";

/*
 * evidence.json: one self-contained, signed JSON document per sealed record for GRC systems
 * (format: schemas/FORMAT.md, "GRC evidence"). It carries the record, the record's JWS, the
 * approvers' signed assertions, and an RFC 6962 inclusion proof to a signed checkpoint, and is
 * itself signed (detached JWS over its RFC 8785 bytes) by the sealing key.
 */

export const EVIDENCE_TYP = "vnd.sealgate.evidence+jws";

const FlattenedJws = z.strictObject({ protected: z.string(), payload: z.string(), signature: z.string() });

export const EvidenceBody = z.strictObject({
  type: z.literal("sealgate.evidence/1"),
  recordDigest: z.string().regex(/^sha256:[0-9a-f]{64}$/),
  record: PromotionRecord,
  recordJws: FlattenedJws,
  approvals: z.array(z.string()),
  ledger: z.strictObject({
    seq: z.int().nonnegative(),
    entry: z.string(),
    treeSize: z.int().min(1),
    inclusionProof: z.array(z.string()),
  }),
  checkpoint: StoredCheckpoint,
  createdAt: z.iso.datetime(),
});
export type EvidenceBody = z.infer<typeof EvidenceBody>;

export const EvidenceDocument = z.strictObject({
  evidence: EvidenceBody,
  signature: z.strictObject({ protected: z.string(), signature: z.string() }),
});

const text = async (store: EvidenceStore, digest: string) =>
  Buffer.from(await store.get(digest as never)).toString("utf8");

/**
 * Build evidence.json for the record at ledger position `seq`; null while no signed checkpoint
 * covers it yet (the next checkpoint makes it deliverable).
 */
export async function buildEvidence(args: {
  store: EvidenceStore;
  view: DeliveryView;
  seq: number;
  seal: SealEntry;
  signer: Signer;
  now?: Date;
}): Promise<Uint8Array | null> {
  const { store, view, seq, seal } = args;
  const entry = recordEntryAt(view, seq);
  if (!entry || entry.record !== seal.record)
    throw new SealgateError("USAGE", `ledger entry #${seq} does not hold record ${seal.record}`);
  const proof = proofFor(view, seq);
  if (!proof || !view.checkpoint) return null;
  const parsed = PromotionRecord.safeParse(JSON.parse(await text(store, seal.record)));
  if (!parsed.success)
    throw new SealgateError("OBJECT_CORRUPT", `record ${seal.record} in the store is not a promotion record`);
  const record = parsed.data;
  const body: EvidenceBody = {
    type: "sealgate.evidence/1",
    recordDigest: seal.record,
    record,
    recordJws: FlattenedJws.parse(JSON.parse(await text(store, seal.jws))),
    approvals: await Promise.all(record.approvals.map((a) => text(store, a.assertion))),
    ledger: { seq, entry: entry.line, treeSize: view.checkpoint.size, inclusionProof: proof },
    checkpoint: { chain: view.checkpoint.chain, note: view.checkpoint.note },
    createdAt: (args.now ?? new Date()).toISOString(),
  };
  const payload = canonicalBytes(body, "evidence");
  const jws = await signJws(payload, args.signer, EVIDENCE_TYP);
  if (jws.payload !== b64u(payload)) throw new Error("JWS payload encoding changed");
  return canonicalBytes(
    { evidence: body, signature: { protected: jws.protected, signature: jws.signature } },
    "evidence document",
  );
}
