import { join } from "node:path";
import { z } from "zod";
import { SealgateError } from "../errors.js";
import { type Checkpoint, parseCheckpoint, type SignedCheckpoint } from "../ledger/checkpoint.js";
import { CHECKPOINTS, ENTRIES, parseEntry, readLines } from "../ledger/ledger.js";
import { type Hash, leafHash, rootOf } from "../ledger/merkle.js";

/*
 * A read-only view of a ledger directory, taken without the writer's lock (the daemon may be
 * appending): the complete entry lines and the last complete signed checkpoint. Export uses it
 * to cut inclusion proofs; `verify --log` uses it to prove a bundle's checkpoint consistent.
 */

const SignedCheckpointLine = z.strictObject({ chain: z.array(z.string()).min(1).max(10), note: z.string() });

export interface LedgerView {
  lines: Buffer[];
  leaves: Hash[];
  /** Sequence number of each record digest's entry (the last one, if appended twice). */
  seqOf: Map<string, number>;
  latest?: { signed: SignedCheckpoint; checkpoint: Checkpoint };
}

export async function readLedgerView(dir: string): Promise<LedgerView> {
  const lines: Buffer[] = [];
  const seqOf = new Map<string, number>();
  try {
    for await (const { line, complete } of readLines(join(dir, ENTRIES))) {
      if (!complete) break;
      const entry = parseEntry(line);
      if (entry) seqOf.set(entry.record, lines.length);
      lines.push(Buffer.from(line));
    }
  } catch (cause) {
    throw new SealgateError("USAGE", `${dir} holds no readable ledger (${ENTRIES})`, { cause });
  }
  let last: string | undefined;
  try {
    for await (const { line, complete } of readLines(join(dir, CHECKPOINTS)))
      if (complete) last = line.toString();
  } catch (err) {
    if ((err as { code?: string }).code !== "ENOENT") throw err;
  }
  const view: LedgerView = { lines, leaves: lines.map(leafHash), seqOf };
  if (last) {
    let parsed: z.infer<typeof SignedCheckpointLine>;
    try {
      parsed = SignedCheckpointLine.parse(JSON.parse(last));
    } catch (cause) {
      throw new SealgateError(
        "CHECKPOINT_INVALID",
        `${dir}/${CHECKPOINTS}: the last checkpoint is malformed`,
        {
          cause,
        },
      );
    }
    view.latest = { signed: parsed, checkpoint: parseCheckpoint(parsed.note).checkpoint };
  }
  return view;
}

/** True when the view's first `size` entries hash to the checkpoint's root. */
export const holdsCheckpoint = (v: LedgerView, c: Checkpoint) =>
  c.size <= v.leaves.length && rootOf(v.leaves, 0, c.size).equals(c.root);
