import { z } from "zod";
import { SealgateError } from "../../core/errors.js";
import { type Checkpoint, parseCheckpoint, type SignedCheckpoint } from "./checkpoint.js";
import {
  CHECKPOINTS,
  ENTRIES,
  type LedgerCheckpoint,
  type LedgerEntry,
  type LedgerReader,
  type Line,
  parseEntry,
  readLineBatches,
  type StoredEntry,
} from "./ledger.js";
import { type Hash, leafHash, rootOf } from "./merkle.js";

/*
 * A ledger held in memory for the gate, export and `verify --log`: the last signed checkpoint,
 * then every complete entry line, read through any LedgerReader (a directory through
 * FileLedgerReader, a daemon's /ledger/ routes through bundle/http-ledger-reader.ts) without
 * the writer's lease. The checkpoint is read first: entries only grow, so entries read
 * afterwards hold everything the checkpoint signed; the other order would mistake a checkpoint
 * appended in between for a truncated log. Below: the line parsing every reader shares.
 */

const SignedCheckpointLine = z.strictObject({
  chain: z.array(z.string().min(1)).min(1).max(10),
  note: z.string().min(1),
  /** RFC 3161 token over the signature (FORMAT section 10), when a TSA is configured. */
  tst: z.string().min(1).optional(),
});

/** What a view keeps of an entry: its place in the chain and the record it names. */
/** An entry as the view holds it: what it says, without its line (kept in `lines`). */
export type ViewEntry = LedgerEntry;

export interface LedgerView {
  /** Complete entry lines, as stored. */
  lines: Buffer[];
  leaves: Hash[];
  entries: ViewEntry[];
  /** Sequence number of the entry naming each object, record or event (the last, if appended twice). */
  seqOf: Map<string, number>;
  latest?: { signed: SignedCheckpoint; checkpoint: Checkpoint };
}

/** The one way to build a view: checkpoint first, then the entries (see the module comment). */
export async function ledgerView(reader: LedgerReader): Promise<LedgerView> {
  const latest = await reader.latestCheckpoint();
  const view: LedgerView = { lines: [], leaves: [], entries: [], seqOf: new Map() };
  if (latest)
    view.latest = {
      signed: { chain: latest.chain, note: latest.note, ...(latest.tst ? { tst: latest.tst } : {}) },
      checkpoint: latest.checkpoint,
    };
  for await (const batch of reader.read())
    for (const { line, ...e } of batch) {
      view.seqOf.set(e.object, e.seq);
      view.entries.push(e);
      view.lines.push(line);
      view.leaves.push(leafHash(line));
    }
  return view;
}

/** True when the view's first `size` entries hash to the checkpoint's root. */
export const holdsCheckpoint = (v: LedgerView, c: Checkpoint) =>
  c.size <= v.leaves.length && rootOf(v.leaves, 0, c.size).equals(c.root);

export async function* readFileLines(path: string): AsyncGenerator<Line[]> {
  try {
    yield* readLineBatches(path);
  } catch (err) {
    // No file yet: a ledger before its first entry or checkpoint.
    if ((err as { code?: string }).code !== "ENOENT") throw err;
  }
}

/** One checkpoints.log line, checked: its signed note and the checkpoint it states. */
export function parseCheckpointLine(where: string, line: Buffer, which: string): LedgerCheckpoint {
  let signed: SignedCheckpoint;
  try {
    signed = SignedCheckpointLine.parse(JSON.parse(line.toString("utf8")));
  } catch (cause) {
    throw new SealgateError("CHECKPOINT_INVALID", `${where} ${CHECKPOINTS}: ${which} is malformed`, {
      cause,
    });
  }
  return { ...signed, checkpoint: parseCheckpoint(signed.note).checkpoint };
}

/**
 * The complete entries among lines of entries.log (from any source), each checked to parse
 * and to have the next seq; those with from <= seq < to, batch by batch.
 */
export async function* storedEntries(
  where: string,
  lines: AsyncIterable<Line[]>,
  { from = 0, to = Infinity }: { from?: number; to?: number } = {},
): AsyncGenerator<StoredEntry[]> {
  let seq = 0;
  for await (const batch of lines) {
    const out: StoredEntry[] = [];
    for (const { line, complete } of batch) {
      if (!complete || seq >= to) break; // a torn tail is the writer's to set aside
      const entry = parseEntry(line);
      if (!entry || entry.seq !== seq)
        throw new SealgateError(
          "LEDGER_CORRUPT",
          `${where} ${ENTRIES}: entry #${seq} is invalid; run sealgate verify --store`,
        );
      if (seq >= from) out.push({ ...entry, line: Buffer.from(line) });
      seq++;
    }
    if (out.length) yield out;
    if (seq >= to) return;
  }
}
