import { z } from "zod";
import type { LedgerReader } from "./ledger.js";
import { type Hash, inclusionProof, leafHash } from "./merkle.js";

/*
 * The ledger as delivery sees it: which records are sealed (the work to derive: record entries
 * only, events are not delivered), every entry's leaf for inclusion proofs, and the latest signed checkpoint. Read through LedgerReader, without
 * the writer's lease, so a pusher never blocks the sealer and sees complete entries only. The
 * checkpoint is read first: entries only grow, so those read after it hold everything it signed.
 */

export const StoredCheckpoint = z.strictObject({
  chain: z.array(z.string().min(1)).min(1),
  note: z.string().min(1),
});
export type StoredCheckpoint = z.infer<typeof StoredCheckpoint>;

export interface DeliveryView {
  /** The record entries, by ascending seq (seq is the ledger position, not an index here). */
  entries: { seq: number; record: string; seal?: string; line: string }[];
  leaves: Hash[];
  checkpoint?: StoredCheckpoint & { size: number };
}

export async function readDeliveryView(ledger: LedgerReader): Promise<DeliveryView> {
  const cp = await ledger.latestCheckpoint();
  const view: DeliveryView = { entries: [], leaves: [] };
  for await (const batch of ledger.read())
    for (const e of batch) {
      if (e.kind === "record")
        view.entries.push({
          seq: e.seq,
          record: e.object,
          ...(e.seal ? { seal: e.seal } : {}),
          line: e.line.toString("utf8"),
        });
      view.leaves.push(leafHash(e.line));
    }
  // A checkpoint of more entries than are here means a truncated log: offer no proofs from it.
  if (cp && cp.checkpoint.size <= view.leaves.length)
    view.checkpoint = { chain: cp.chain, note: cp.note, size: cp.checkpoint.size };
  return view;
}

/** The record entry at ledger position `seq`, if that entry holds a record. */
export function recordEntryAt(view: DeliveryView, seq: number): DeliveryView["entries"][number] | undefined {
  const { entries } = view;
  let lo = 0;
  let hi = entries.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (entries[mid]!.seq < seq) lo = mid + 1;
    else hi = mid;
  }
  return entries[lo]?.seq === seq ? entries[lo] : undefined;
}

/** The RFC 6962 audit path of entry `seq` in the tree of the checkpoint, base64 hashes. */
export function proofFor(view: DeliveryView, seq: number): string[] | null {
  const cp = view.checkpoint;
  if (!cp || seq >= cp.size) return null;
  return inclusionProof(view.leaves, seq, 0, cp.size).map((h) => h.toString("base64"));
}
