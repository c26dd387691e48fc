import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { z } from "zod";
import { SealgateError } from "../errors.js";
import { CHECKPOINTS, ENTRIES, parseEntry, readLines } from "../ledger/ledger.js";
import { type Hash, inclusionProof, leafHash } from "../ledger/merkle.js";
import { parseCheckpoint } from "../ledger/checkpoint.js";

/*
 * A read-only view of the ledger for delivery: which records are sealed (the work to derive),
 * their leaves for inclusion proofs, and the latest signed checkpoint. It takes no lock, so a
 * pusher never blocks the sealer; it reads complete lines only (a torn tail is the writer's).
 */

export const StoredCheckpoint = z.strictObject({
  chain: z.array(z.string().min(1)).min(1),
  note: z.string().min(1),
});
export type StoredCheckpoint = z.infer<typeof StoredCheckpoint>;

export interface LedgerView {
  entries: { seq: number; record: string; line: string }[];
  leaves: Hash[];
  checkpoint?: StoredCheckpoint & { size: number };
}

export async function readLedgerView(storeRoot: string): Promise<LedgerView> {
  const dir = join(storeRoot, "ledger");
  const view: LedgerView = { entries: [], leaves: [] };
  try {
    for await (const { line, complete } of readLines(join(dir, ENTRIES))) {
      if (!complete) break;
      const entry = parseEntry(line);
      if (!entry || entry.seq !== view.entries.length)
        throw new SealgateError(
          "LEDGER_CORRUPT",
          `ledger ${join(dir, ENTRIES)}: entry #${view.entries.length} is invalid; run sealgate verify`,
        );
      view.entries.push({ seq: entry.seq, record: entry.record, line: line.toString("utf8") });
      view.leaves.push(leafHash(line));
    }
  } catch (err) {
    if ((err as { code?: string }).code === "ENOENT") return view;
    throw err;
  }
  const text = await readFile(join(dir, CHECKPOINTS), "utf8").catch(() => "");
  const lines = text.split("\n").slice(0, -1).filter(Boolean);
  const last = lines[lines.length - 1];
  if (last) {
    let parsed: StoredCheckpoint;
    try {
      parsed = StoredCheckpoint.parse(JSON.parse(last));
    } catch (cause) {
      throw new SealgateError("CHECKPOINT_INVALID", `the last line of ${CHECKPOINTS} is not a checkpoint`, {
        cause,
      });
    }
    const { size } = parseCheckpoint(parsed.note).checkpoint;
    // A checkpoint of a longer ledger than we read: the writer raced us; use what we read.
    if (size <= view.leaves.length) view.checkpoint = { ...parsed, size };
  }
  return view;
}

/** The RFC 6962 audit path of entry `seq` in the tree of the checkpoint, base64 hashes. */
export function proofFor(view: LedgerView, seq: number): string[] | null {
  const cp = view.checkpoint;
  if (!cp || seq >= cp.size) return null;
  return inclusionProof(view.leaves, seq, 0, cp.size).map((h) => h.toString("base64"));
}
