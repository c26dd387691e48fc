import { hash } from "node:crypto";
import { createReadStream } from "node:fs";
import { SealgateError } from "../../core/errors.js";
import { canonicalBytes } from "../../record/canonical.js";
import type { Digest } from "../../core/digest.js";
import type { Signer } from "../../crypto/sign/signer.js";
import type { Checkpoint, SignedCheckpoint } from "./checkpoint.js";

/*
 * What a ledger is, whatever holds it: the append-only, hash-chained log of sealed records and
 * the interfaces its callers use (LedgerReader, Ledger). Each entry is the RFC 8785 JSON
 * {"prev","record","seq"}; `prev` is the SHA-256 (hex) of the previous entry's canonical line
 * (without "\n"), 64 zeros for the first. Every backend stores these very bytes, so entry
 * hashes, Merkle roots and checkpoints are the same on any of them. The embedded backend is
 * file-ledger.ts (entries.log, one entry per line, and checkpoints.log).
 */

export const GENESIS = "0".repeat(64);
export const ENTRIES = "entries.log";
export const CHECKPOINTS = "checkpoints.log";
export const ORIGIN = "ORIGIN";

export interface LedgerEntry {
  seq: number;
  record: Digest;
  prev: string;
}

export function entryLine(e: LedgerEntry): Buffer {
  return Buffer.from(canonicalBytes({ prev: e.prev, record: e.record, seq: e.seq }, "ledger entry"));
}

export const sha256hex = (b: Uint8Array) => hash("sha256", b, "hex");

/*
 * An entry has exactly one canonical form (members in RFC 8785 order, hex strings that need no
 * escaping, seq as a plain integer), so matching this pattern is both the parse and the check
 * that the line is canonical; the verifier runs it on every line, so it avoids JSON.parse.
 */
const ENTRY_RE = /^\{"prev":"([0-9a-f]{64})","record":"(sha256:[0-9a-f]{64})","seq":(0|[1-9][0-9]{0,15})\}$/;

/** Parse one line strictly: exactly the canonical form, nothing else. */
export function parseEntry(line: Buffer): LedgerEntry | null {
  // latin1 maps every byte to one character, so any non-ASCII byte fails the pattern.
  const m = ENTRY_RE.exec(line.toString("latin1"));
  if (!m) return null;
  const seq = Number(m[3]);
  if (!Number.isSafeInteger(seq)) return null;
  return { seq, record: m[2] as Digest, prev: m[1]! };
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
   * Append a record digest; resolves once the entry is durable. With `expectedPrev`, the
   * append happens only if the ledger's head is still that hash, checked in the same step as
   * the write; otherwise it is LEDGER_TAIL_MOVED and nothing is written.
   */
  append(record: Digest, opts?: { expectedPrev?: string }): Promise<{ seq: number; entryDigest: string }>;
  /** True when some entry holds this record digest (crash recovery asks: seal-recovery.ts). */
  includes(record: Digest): Promise<boolean>;
  /**
   * Sign a checkpoint of the whole ledger and append it. Refuses (LEDGER_CORRUPT) when the
   * ledger no longer holds the previous checkpoint's tree.
   */
  checkpoint(signer: Signer, time?: Date): Promise<SignedCheckpoint>;
  close(): Promise<void>;
}
