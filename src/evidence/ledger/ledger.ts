import { hash } from "node:crypto";
import { createReadStream } from "node:fs";
import { SealgateError } from "../../core/errors.js";
import { canonicalBytes } from "../../record/canonical.js";
import type { Digest } from "../../core/digest.js";
import type { Signer } from "../../crypto/sign/signer.js";
import type { Checkpoint, SignedCheckpoint } from "./checkpoint.js";

/*
 * What a ledger is, whatever holds it: the append-only, hash-chained log of sealed records and
 * workflow events, and the interfaces its callers use (LedgerReader, Ledger). Each entry is one
 * RFC 8785 JSON line; `prev` is the SHA-256 (hex) of the previous entry's canonical line
 * (without "\n"), 64 zeros for the first. Two forms exist:
 *   v1 (before seal objects, read forever): {"prev","record","seq"}
 *   v2 (every append now): {"kind":"record","object","prev","seal","seq","time"} or
 *                          {"kind":"event","object","prev","seq","time"}
 * A ledger may hold v1 lines followed by v2 lines, never the reverse. `time` is sealgate's own
 * append time and never decreases along the chain. Every backend stores these very bytes, so
 * entry hashes, Merkle roots and checkpoints are the same on any of them. The embedded backend
 * is file-ledger.ts (entries.log, one entry per line, and checkpoints.log).
 */

export const GENESIS = "0".repeat(64);
export const ENTRIES = "entries.log";
export const CHECKPOINTS = "checkpoints.log";
export const ORIGIN = "ORIGIN";

export type EntryKind = "record" | "event";

/** One entry. A v1 line reads as kind "record" with no seal and no time. */
export interface LedgerEntry {
  seq: number;
  prev: string;
  kind: EntryKind;
  /** The record (kind record) or the event object (kind event) in the store. */
  object: Digest;
  /** The record's seal object (v2 record entries). */
  seal?: Digest;
  /** Append time, YYYY-MM-DDTHH:MM:SS.sssZ (v2 entries). */
  time?: string;
}

/** What a caller appends; the ledger adds seq, prev and time. */
export type AppendItem = { kind: "record"; object: Digest; seal: Digest } | { kind: "event"; object: Digest };

/** The canonical line of an entry: v1 when it has no time, v2 otherwise. */
export function entryLine(e: LedgerEntry): Buffer {
  if (e.time === undefined) {
    if (e.kind !== "record" || e.seal !== undefined)
      throw new SealgateError("USAGE", "a v1 ledger entry holds a record and nothing else");
    return Buffer.from(canonicalBytes({ prev: e.prev, record: e.object, seq: e.seq }, "ledger entry"));
  }
  const { seq, prev, kind, object, seal, time } = e;
  if ((kind === "record") !== (seal !== undefined))
    throw new SealgateError("USAGE", "a v2 ledger entry has a seal exactly when it holds a record");
  return Buffer.from(
    canonicalBytes(
      { kind, object, prev, seq, time, ...(seal !== undefined ? { seal } : {}) },
      "ledger entry",
    ),
  );
}

export const sha256hex = (b: Uint8Array) => hash("sha256", b, "hex");

/** sealgate's append time: RFC 3339 UTC with exactly three fraction digits. */
export const entryTime = (d: Date) => d.toISOString();

/*
 * An entry has exactly one canonical form (members in RFC 8785 order, hex strings that need no
 * escaping, seq as a plain integer), so matching a pattern is both the parse and the check
 * that the line is canonical; the verifier runs it on every line, so it avoids JSON.parse.
 */
const HEX = "[0-9a-f]{64}";
const SEQ = "(0|[1-9][0-9]{0,15})";
const V1_RE = new RegExp(`^\\{"prev":"(${HEX})","record":"(sha256:${HEX})","seq":${SEQ}\\}$`);
const V2_RE = new RegExp(
  `^\\{"kind":"(record|event)","object":"(sha256:${HEX})","prev":"(${HEX})",(?:"seal":"(sha256:${HEX})",)?` +
    `"seq":${SEQ},"time":"([0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{3}Z)"\\}$`,
);

/** True when `t` is a real instant written exactly as entryTime writes it. */
function isEntryTime(t: string): boolean {
  const ms = Date.parse(t);
  return Number.isFinite(ms) && new Date(ms).toISOString() === t;
}

/** Parse one line strictly: exactly a canonical v1 or v2 form, nothing else. */
export function parseEntry(line: Buffer): LedgerEntry | null {
  // latin1 maps every byte to one character, so any non-ASCII byte fails the pattern.
  const text = line.toString("latin1");
  if (text.charCodeAt(2) === 112 /* p: v1 */) {
    const m = V1_RE.exec(text);
    if (!m) return null;
    const seq = Number(m[3]);
    if (!Number.isSafeInteger(seq)) return null;
    return { seq, prev: m[1]!, kind: "record", object: m[2] as Digest };
  }
  const m = V2_RE.exec(text);
  if (!m) return null;
  const kind = m[1] as EntryKind;
  // A record entry names its seal; an event entry has none.
  if ((kind === "record") !== (m[4] !== undefined)) return null;
  const seq = Number(m[5]);
  if (!Number.isSafeInteger(seq) || !isEntryTime(m[6]!)) return null;
  const entry: LedgerEntry = { seq, prev: m[3]!, kind, object: m[2] as Digest, time: m[6]! };
  if (m[4] !== undefined) entry.seal = m[4] as Digest;
  return entry;
}

export interface Line {
  line: Buffer;
  offset: number;
  complete: boolean;
}

/**
 * Lines of a file, streamed, a batch per read chunk (an await per line would cost more than
 * checking it); the last line has `complete: false` if no newline ends it.
 */
export function readLineBatches(path: string, end = Infinity): AsyncGenerator<Line[]> {
  // `end` (bytes) bounds the read, for readers that must see exactly the same bytes.
  if (end <= 0) return lineBatches([]);
  return lineBatches(
    createReadStream(path, { highWaterMark: 1 << 20, ...(end < Infinity ? { end: end - 1 } : {}) }),
  );
}

/**
 * Lines of any byte stream (a file, an HTTP body), batched as readLineBatches describes;
 * `maxLine` bounds what an untrusted stream can make us buffer.
 */
export async function* lineBatches(
  chunks: AsyncIterable<Buffer> | Iterable<Buffer>,
  maxLine = Infinity,
): AsyncGenerator<Line[]> {
  let carry = Buffer.alloc(0);
  let offset = 0;
  for await (const chunk of chunks) {
    const buf = carry.length ? Buffer.concat([carry, chunk]) : chunk;
    const batch: Line[] = [];
    let start = 0;
    let nl: number;
    while ((nl = buf.indexOf(10, start)) >= 0) {
      batch.push({ line: buf.subarray(start, nl), offset: offset + start, complete: true });
      start = nl + 1;
    }
    offset += start;
    carry = Buffer.from(buf.subarray(start));
    if (carry.length > maxLine)
      throw new SealgateError("LEDGER_CORRUPT", `a line at byte ${offset} is longer than ${maxLine} bytes`);
    if (batch.length) yield batch;
  }
  if (carry.length) yield [{ line: carry, offset, complete: false }];
}

/** Lines of a file one by one (see readLineBatches). */
export async function* readLines(path: string): AsyncGenerator<Line> {
  for await (const batch of readLineBatches(path)) yield* batch;
}

/** One entry as stored: what it says, and its canonical line (without "\n"), the bytes hashed. */
export interface StoredEntry extends LedgerEntry {
  line: Buffer;
}

export type LedgerCheckpoint = SignedCheckpoint & { checkpoint: Checkpoint };

/**
 * What every reader of a ledger uses: gate, delivery, export, a follower replica. Taken without
 * the writer's lease, so a reader never blocks the sealer; it sees complete entries only.
 */
export interface LedgerReader {
  /**
   * The entries with from <= seq < to (default: all), in order, in batches: an await per entry
   * would cost more than checking it. An entry that does not parse, or whose seq is out of
   * order, is LEDGER_CORRUPT.
   */
  read(range?: { from?: number; to?: number }): AsyncIterable<StoredEntry[]>;
  /** Every signed checkpoint, oldest first. A malformed one is CHECKPOINT_INVALID. */
  checkpoints(): AsyncIterable<LedgerCheckpoint>;
  /** The last signed checkpoint, if any. */
  latestCheckpoint(): Promise<LedgerCheckpoint | undefined>;
  /**
   * For `verify`, which reports every bad line where read() and checkpoints() stop at the
   * first: the lines of the entry log exactly as stored, unchecked, up to its size when called
   * (the last one `complete: false` if torn).
   */
  entryLines(): AsyncIterable<Line[]>;
  /** The same for the checkpoint log. */
  checkpointLines(): AsyncIterable<Line[]>;
  /** The log's origin name, if one is recorded. */
  readOrigin(): Promise<string | undefined>;
}

/** The right to append: one holder at a time. */
export interface LedgerLease {
  /**
   * Fencing token: it grows with each new holder, and an append counts only under the current
   * one (on PostgreSQL the lease row's epoch, checked in the append's own transaction). The
   * file lock cannot be lost while its process lives, so its epoch is always 1.
   */
  readonly epoch: number;
}

/**
 * The one writer's ledger. Opening it takes the lease (the file backend: lock.ts, failing with
 * LEDGER_LOCKED while another live process holds it); close() gives it back.
 */
export interface Ledger extends LedgerReader {
  /** The log's name in its checkpoints (C2SP origin line). */
  readonly origin: string;
  /** Number of entries. */
  readonly size: number;
  /** SHA-256 hex of the last entry line (GENESIS when empty). */
  readonly head: string;
  readonly lease: LedgerLease;
  /**
   * Append a record (with its seal object) or an event; resolves once the entry is durable.
   * The ledger sets the entry's time: max(`now`, the previous entry's time), so time never
   * decreases along the chain. With `expectedPrev`, the append happens only if the ledger's
   * head is still that hash, checked in the same step as the write; otherwise it is
   * LEDGER_TAIL_MOVED and nothing is written.
   */
  append(
    item: AppendItem,
    opts?: { expectedPrev?: string; now?: Date },
  ): Promise<{ seq: number; entryDigest: string; time: string }>;
  /** True when some entry (of any kind) names this object (crash recovery asks: seal-recovery.ts). */
  includes(object: Digest): Promise<boolean>;
  /**
   * Sign a checkpoint of the whole ledger and append it. Refuses (LEDGER_CORRUPT) when the
   * ledger no longer holds the previous checkpoint's tree.
   */
  checkpoint(signer: Signer, time?: Date): Promise<SignedCheckpoint>;
  close(): Promise<void>;
}
