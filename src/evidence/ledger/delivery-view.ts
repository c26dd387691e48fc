import { join } from "node:path";
import { z } from "zod";
import { inclusionProof } from "./merkle.js";
import { readLedgerView } from "./view.js";
import type { Hash } from "./merkle.js";

/*
 * The ledger as delivery sees it: which records are sealed (the work to derive), their leaves
 * for inclusion proofs, and the latest signed checkpoint. Built on the shared lock-free view,
 * so a pusher never blocks the sealer and reads complete lines only.
 */

export const StoredCheckpoint = z.strictObject({
  chain: z.array(z.string().min(1)).min(1),
  note: z.string().min(1),
});
export type StoredCheckpoint = z.infer<typeof StoredCheckpoint>;

export interface DeliveryView {
  entries: { seq: number; record: string; line: string }[];
  leaves: Hash[];
  checkpoint?: StoredCheckpoint & { size: number };
}

export async function readDeliveryView(storeRoot: string): Promise<DeliveryView> {
  const v = await readLedgerView(join(storeRoot, "ledger"));
  const view: DeliveryView = {
    entries: v.entries.map((e, i) => ({ seq: e.seq, record: e.record, line: v.lines[i]!.toString("utf8") })),
    leaves: v.leaves,
  };
  const cp = v.latest;
  // A checkpoint of more entries than are here means a truncated log: offer no proofs from it.
  if (cp && cp.checkpoint.size <= v.leaves.length)
    view.checkpoint = { chain: cp.signed.chain, note: cp.signed.note, size: cp.checkpoint.size };
  return view;
}

/** The RFC 6962 audit path of entry `seq` in the tree of the checkpoint, base64 hashes. */
export function proofFor(view: DeliveryView, seq: number): string[] | null {
  const cp = view.checkpoint;
  if (!cp || seq >= cp.size) return null;
  return inclusionProof(view.leaves, seq, 0, cp.size).map((h) => h.toString("base64"));
}
