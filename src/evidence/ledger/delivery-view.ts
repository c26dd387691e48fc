import { z } from "zod";
import type { LedgerReader } from "./ledger.js";
import { type Hash, inclusionProof, leafHash } from "./merkle.js";

/*
 * The ledger as delivery sees it: which records are sealed (the work to derive), their leaves
 * for inclusion proofs, and the latest signed checkpoint. Read through LedgerReader, without
 * the writer's lease, so a pusher never blocks the sealer and sees complete entries only. The
 * checkpoint is read first: entries only grow, so those read after it hold everything it signed.
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

export async function readDeliveryView(ledger: LedgerReader): Promise<DeliveryView> {
  const cp = await ledger.latestCheckpoint();
  const view: DeliveryView = { entries: [], leaves: [] };
  for await (const batch of ledger.read())
    for (const e of batch) {
      view.entries.push({ seq: e.seq, record: e.record, line: e.line.toString("utf8") });
      view.leaves.push(leafHash(e.line));
    }
  // A checkpoint of more entries than are here means a truncated log: offer no proofs from it.
  if (cp && cp.checkpoint.size <= view.leaves.length)
    view.checkpoint = { chain: cp.chain, note: cp.note, size: cp.checkpoint.size };
  return view;
}

/** The RFC 6962 audit path of entry `seq` in the tree of the checkpoint, base64 hashes. */
export function proofFor(view: DeliveryView, seq: number): string[] | null {
  const cp = view.checkpoint;
  if (!cp || seq >= cp.size) return null;
  return inclusionProof(view.leaves, seq, 0, cp.size).map((h) => h.toString("base64"));
}
