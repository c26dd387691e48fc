import { join } from "node:path";
import { z } from "zod";
import { SealgateError } from "../../core/errors.js";
import { HttpClient } from "../../core/http/client.js";
import { type Checkpoint, parseCheckpoint, type SignedCheckpoint } from "./checkpoint.js";
import {
  CHECKPOINTS,
  ENTRIES,
  type LedgerCheckpoint,
  type LedgerEntry,
  type Line,
  lineBatches,
  parseEntry,
  readLineBatches,
  type StoredEntry,
} from "./ledger.js";
import { type Hash, leafHash, rootOf } from "./merkle.js";

/*
 * A read-only view of a ledger, from its directory or from a daemon's /ledger/ routes, taken
 * without the writer's lock (the daemon may be appending): the last complete signed checkpoint,
 * then the complete entry lines. Checkpoints are read first: entries only grow, so entries read
 * afterwards hold everything the checkpoint signed; the other order would mistake a checkpoint
 * appended in between for a truncated log.
 */

const SignedCheckpointLine = z.strictObject({
  chain: z.array(z.string().min(1)).min(1).max(10),
  note: z.string().min(1),
});

export interface LedgerView {
  /** Complete entry lines, as stored. */
  lines: Buffer[];
  leaves: Hash[];
  entries: LedgerEntry[];
  /** Sequence number of each record digest's entry (the last one, if appended twice). */
  seqOf: Map<string, number>;
  latest?: { signed: SignedCheckpoint; checkpoint: Checkpoint };
}

/** A hostile server must not make us buffer an endless line; real lines are a few KiB. */
const MAX_LINE = 1 << 20;

/** `source` is a ledger directory or the base URL of a daemon serving /ledger/. */
export async function readLedgerView(source: string, opts: { ca?: string } = {}): Promise<LedgerView> {
  if (/^https?:\/\//i.test(source)) return fromHttp(source, opts.ca);
  return build(source, readFileLines(join(source, CHECKPOINTS)), () => readFileLines(join(source, ENTRIES)));
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

async function fromHttp(base: string, ca?: string): Promise<LedgerView> {
  const client = new HttpClient({ baseUrl: base, ...(ca ? { ca } : {}) });
  const get = async function* (name: string): AsyncGenerator<Line[]> {
    const res = await client.stream({
      method: "GET",
      path: `ledger/${name}`,
      headers: { accept: "text/plain" },
    });
    yield* lineBatches(res.body as AsyncIterable<Buffer>, MAX_LINE);
  };
  try {
    return await build(base, get(CHECKPOINTS), () => get(ENTRIES));
  } finally {
    await client.close();
  }
}

/** A view from checkpoint and entry lines of any source (verify --log bounds its own). */
export async function build(
  where: string,
  checkpoints: AsyncIterable<Line[]>,
  entries: () => AsyncIterable<Line[]>,
): Promise<LedgerView> {
  let last: Buffer | undefined;
  for await (const batch of checkpoints) for (const { line, complete } of batch) if (complete) last = line;
  const view: LedgerView = { lines: [], leaves: [], entries: [], seqOf: new Map() };
  if (last) {
    const { chain, note, checkpoint } = parseCheckpointLine(where, last, "the last checkpoint");
    view.latest = { signed: { chain, note }, checkpoint };
  }
  for await (const batch of storedEntries(where, entries()))
    for (const { line, ...entry } of batch) {
      view.seqOf.set(entry.object, entry.seq);
      view.entries.push(entry);
      view.lines.push(line);
      view.leaves.push(leafHash(line));
    }
  return view;
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
