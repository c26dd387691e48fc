import { hash, randomBytes } from "node:crypto";
import { createReadStream } from "node:fs";
import { type FileHandle, mkdir, open, readFile, stat, truncate, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { SealgateError } from "../../core/errors.js";
import { canonicalBytes } from "../../record/canonical.js";
import { type Digest, isDigest } from "../../core/digest.js";
import type { Signer } from "../../crypto/sign/signer.js";
import { type Checkpoint, parseCheckpoint, type SignedCheckpoint, signCheckpoint } from "./checkpoint.js";
import { acquireLock, type Lock } from "./lock.js";
import { consistencyProof, type Hash, inclusionProof, leafHash, rootOf } from "./merkle.js";

/*
 * The append-only, hash-chained ledger: entries.log holds one entry per line, each the RFC 8785
 * JSON {"prev","record","seq"} followed by "\n". `prev` is the SHA-256 (hex) of the previous
 * entry's line (without "\n"), 64 zeros for the first. An append is fsynced before it is
 * acknowledged. A crash can leave only an incomplete last line: on open it is moved aside,
 * reported, and never silently dropped.
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

export interface OpenReport {
  size: number;
  /** Present when a crash left an incomplete last line: where it was kept, how many bytes. */
  tornTail?: { path: string; bytes: number };
  /** The same for an incomplete last line of checkpoints.log. */
  tornCheckpoint?: { path: string; bytes: number };
}

export class Ledger {
  private chain = Promise.resolve();
  private constructor(
    readonly dir: string,
    private readonly fh: FileHandle,
    private readonly lock: Lock,
    readonly leaves: Hash[],
    private headDigest: string,
    private nextSeq: number,
    readonly report: OpenReport,
    /** The log's name in its checkpoints (C2SP origin line). */
    readonly origin: string,
  ) {}

  get size(): number {
    return this.leaves.length;
  }

  /** SHA-256 hex of the last entry line (GENESIS when empty). */
  get head(): string {
    return this.headDigest;
  }

  static async open(dir: string, opts: { waitMs?: number } = {}): Promise<Ledger> {
    await mkdir(dir, { recursive: true });
    const lock = await acquireLock(join(dir, "LOCK"), opts.waitMs ?? 0);
    try {
      const path = join(dir, ENTRIES);
      const size = await stat(path).then(
        (s) => s.size,
        () => -1,
      );
      if (size < 0) await writeFile(path, "", { flag: "wx", mode: 0o644 });
      const leaves: Hash[] = [];
      let head = GENESIS;
      let last: LedgerEntry | null = null;
      const report: OpenReport = { size: 0 };
      for await (const { line, offset, complete } of readLines(path)) {
        if (!complete) {
          // A crash mid-append; how a seal recovers from it: governance/seal-recovery.ts.
          report.tornTail = await quarantine(dir, path, line, offset, "entries");
          break;
        }
        leaves.push(leafHash(line));
        head = sha256hex(line);
        last = parseEntry(line);
      }
      if (leaves.length > 0 && !last) {
        throw new SealgateError(
          "LEDGER_CORRUPT",
          `ledger ${path}: the last entry (#${leaves.length - 1}) is not a valid entry; run sealgate verify`,
        );
      }
      report.size = leaves.length;
      // A crash while signing a checkpoint can tear checkpoints.log the same way.
      const cpPath = join(dir, CHECKPOINTS);
      if (await stat(cpPath).catch(() => null)) {
        for await (const { line, offset, complete } of readLines(cpPath)) {
          if (!complete) report.tornCheckpoint = await quarantine(dir, cpPath, line, offset, "checkpoints");
        }
      }
      const origin = await readOrCreateOrigin(dir);
      const fh = await open(path, "a");
      return new Ledger(dir, fh, lock, leaves, head, last ? last.seq + 1 : 0, report, origin);
    } catch (err) {
      await lock.release();
      throw err;
    }
  }

  /** Append a record digest; resolves once the entry is on disk (fsync). */
  append(record: Digest): Promise<{ seq: number; entryDigest: string }> {
    if (!isDigest(record)) throw new SealgateError("USAGE", `not a record digest: ${JSON.stringify(record)}`);
    const run = this.chain.then(async () => {
      const entry: LedgerEntry = { seq: this.nextSeq, record, prev: this.headDigest };
      const line = entryLine(entry);
      await this.fh.write(Buffer.concat([line, Buffer.from("\n")]));
      await this.fh.datasync();
      this.leaves.push(leafHash(line));
      this.headDigest = sha256hex(line);
      this.nextSeq++;
      return { seq: entry.seq, entryDigest: this.headDigest };
    });
    this.chain = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }

  root(size = this.size): Hash {
    return rootOf(this.leaves, 0, size);
  }

  inclusionProof(seq: number, size = this.size): Hash[] {
    return inclusionProof(this.leaves, seq, 0, size);
  }

  consistencyProof(from: number, to = this.size): Hash[] {
    return consistencyProof(this.leaves, from, 0, to);
  }

  /** The last signed checkpoint, if any. */
  async latestCheckpoint(): Promise<(SignedCheckpoint & { checkpoint: Checkpoint }) | undefined> {
    let last: string | undefined;
    try {
      for await (const { line, complete } of readLines(join(this.dir, CHECKPOINTS)))
        if (complete) last = line.toString();
    } catch (err) {
      if ((err as { code?: string }).code === "ENOENT") return undefined;
      throw err;
    }
    if (!last) return undefined;
    const signed = JSON.parse(last) as SignedCheckpoint;
    return { ...signed, checkpoint: parseCheckpoint(signed.note).checkpoint };
  }

  /**
   * Sign a checkpoint of the whole ledger. Refuses when the ledger no longer contains the
   * previous checkpoint's tree: a log must never sign two inconsistent views of itself.
   */
  async checkpoint(signer: Signer, time = new Date()): Promise<SignedCheckpoint> {
    await this.chain;
    const previous = await this.latestCheckpoint();
    if (previous) {
      const { size, root } = previous.checkpoint;
      if (size > this.size || !rootOf(this.leaves, 0, size).equals(root)) {
        throw new SealgateError(
          "LEDGER_CORRUPT",
          `the ledger no longer contains the tree of its checkpoint at size ${size}; refusing to sign an inconsistent checkpoint (run sealgate verify)`,
        );
      }
    }
    const signed = await signCheckpoint(
      { origin: this.origin, size: this.size, root: this.root(), time },
      signer,
    );
    const line = Buffer.from(`${JSON.stringify({ chain: signed.chain, note: signed.note })}\n`);
    const fh = await open(join(this.dir, CHECKPOINTS), "a", 0o644);
    try {
      await fh.write(line);
      await fh.datasync();
    } finally {
      await fh.close();
    }
    return signed;
  }

  async close(): Promise<void> {
    await this.chain;
    await this.fh.close();
    await this.lock.release();
  }
}

async function readOrCreateOrigin(dir: string): Promise<string> {
  const path = join(dir, ORIGIN);
  try {
    return (await readFile(path, "utf8")).trim();
  } catch {
    const origin = `sealgate.local/${randomBytes(8).toString("hex")}`;
    await writeFile(path, `${origin}\n`, { flag: "wx", mode: 0o644 }).catch(() => {});
    return (await readFile(path, "utf8")).trim();
  }
}

/** Keep an incomplete last line aside for inspection, then cut it from the ledger. */
async function quarantine(dir: string, path: string, tail: Buffer, offset: number, what: string) {
  const aside = join(dir, `${what}.torn-${new Date().toISOString().replace(/[:.]/g, "-")}-at-${offset}`);
  await writeFile(aside, tail, { flag: "wx", mode: 0o444 });
  const fh = await open(aside, "r");
  await fh.sync();
  await fh.close();
  await truncate(path, offset);
  const lf = await open(path, "r+");
  await lf.sync();
  await lf.close();
  return { path: aside, bytes: tail.length };
}
