import { randomBytes } from "node:crypto";
import { type FileHandle, mkdir, open, readFile, stat, truncate, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { SealgateError } from "../../core/errors.js";
import { type Digest, isDigest } from "../../core/digest.js";
import type { Signer } from "../../crypto/sign/signer.js";
import { type SignedCheckpoint, signCheckpoint } from "./checkpoint.js";
import {
  type AppendItem,
  CHECKPOINTS,
  ENTRIES,
  entryLine,
  entryTime,
  GENESIS,
  type Ledger,
  type LedgerCheckpoint,
  type LedgerEntry,
  type LedgerReader,
  type Line,
  ORIGIN,
  parseEntry,
  readLineBatches,
  readLines,
  sha256hex,
  type StoredEntry,
} from "./ledger.js";
import { acquireLock, type Lock } from "./lock.js";
import { consistencyProof, type Hash, inclusionProof, leafHash, rootOf } from "./merkle.js";
import { parseCheckpointLine, readFileLines, storedEntries } from "./view.js";

/*
 * The embedded ledger: a directory with entries.log (one canonical entry per line, each
 * followed by "\n"), checkpoints.log (one signed checkpoint per line), ORIGIN and the writer's
 * LOCK. Entries are v1 or v2 lines (ledger.ts). An append is fsynced before it is acknowledged. A crash can leave only an incomplete
 * last line: on open it is moved aside, reported, and never silently dropped.
 */

/** Where a file store keeps its ledger. */
export const ledgerDirOf = (storeDir: string) => join(storeDir, "ledger");

/** A ledger directory read without the lock (the daemon may be appending): complete lines only. */
export class FileLedgerReader implements LedgerReader {
  constructor(readonly dir: string) {}

  /** The ledger of a file store: its ledger/ folder. */
  static ofStore(storeDir: string): FileLedgerReader {
    return new FileLedgerReader(ledgerDirOf(storeDir));
  }

  read(range?: { from?: number; to?: number }): AsyncIterable<StoredEntry[]> {
    return storedEntries(this.dir, readFileLines(join(this.dir, ENTRIES)), range);
  }

  async *checkpoints(): AsyncGenerator<LedgerCheckpoint> {
    let n = 0;
    for await (const batch of readFileLines(join(this.dir, CHECKPOINTS)))
      for (const { line, complete } of batch)
        if (complete) yield parseCheckpointLine(this.dir, line, `checkpoint #${n++}`);
  }

  async *entryLines(): AsyncGenerator<Line[]> {
    const path = join(this.dir, ENTRIES);
    // Bounded by the size now: an append meanwhile is not half-read as a torn line.
    const size = (await stat(path).catch(() => null))?.size;
    if (size !== undefined) yield* readLineBatches(path, size);
  }

  checkpointLines(): AsyncIterable<Line[]> {
    return readFileLines(join(this.dir, CHECKPOINTS));
  }

  async readOrigin(): Promise<string | undefined> {
    // Exactly the name and one newline: any other byte there is a change verify must see.
    const text = await readFile(join(this.dir, ORIGIN), "latin1").catch(() => "");
    return (text.endsWith("\n") ? text.slice(0, -1) : text) || undefined;
  }

  async latestCheckpoint(): Promise<LedgerCheckpoint | undefined> {
    let last: Buffer | undefined;
    for await (const batch of readFileLines(join(this.dir, CHECKPOINTS)))
      for (const { line, complete } of batch) if (complete) last = line;
    return last && parseCheckpointLine(this.dir, last, "the last checkpoint");
  }
}

export interface OpenReport {
  size: number;
  /** Present when a crash left an incomplete last line: where it was kept, how many bytes. */
  tornTail?: { path: string; bytes: number };
  /** The same for an incomplete last line of checkpoints.log. */
  tornCheckpoint?: { path: string; bytes: number };
}

export class FileLedger extends FileLedgerReader implements Ledger {
  /** The file lock is this process's for as long as it lives: one epoch. */
  readonly lease = { epoch: 1 };
  private chain = Promise.resolve();
  /**
   * Set when a write failed: whether its line reached the disk is unknown, so nothing more is
   * appended or answered until the ledger is opened again (open sets a torn line aside).
   */
  private failed: unknown;

  private constructor(
    dir: string,
    private readonly fh: FileHandle,
    private readonly lock: Lock,
    readonly leaves: Hash[],
    private headDigest: string,
    private nextSeq: number,
    /** The last entry's time (undefined while the ledger is empty or ends in a v1 entry). */
    private lastTime: string | undefined,
    /** Every object an entry names, of any kind: read once at open, kept current by append. */
    private readonly objects: Set<string>,
    readonly report: OpenReport,
    /** The log's name in its checkpoints (C2SP origin line). */
    readonly origin: string,
  ) {
    super(dir);
  }

  get size(): number {
    return this.leaves.length;
  }

  /** SHA-256 hex of the last entry line (GENESIS when empty). */
  get head(): string {
    return this.headDigest;
  }

  static async open(dir: string, opts: { waitMs?: number } = {}): Promise<FileLedger> {
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
      const objects = new Set<string>();
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
        // A line that does not parse names nothing here; `sealgate verify` reports it.
        if (last) objects.add(last.object);
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
      const next = last ? last.seq + 1 : 0;
      return new FileLedger(dir, fh, lock, leaves, head, next, last?.time, objects, report, origin);
    } catch (err) {
      await lock.release();
      throw err;
    }
  }

  /** Runs `op` after every earlier append: the one order of writes to entries.log. */
  private serialised<T>(op: () => Promise<T>): Promise<T> {
    const run = this.chain.then(op);
    this.chain = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }

  /** Append a record with its seal, or an event; resolves once the entry is on disk (fsync). */
  append(
    item: AppendItem,
    opts: { expectedPrev?: string; now?: Date } = {},
  ): Promise<{ seq: number; entryDigest: string; time: string }> {
    checkItem(item);
    return this.serialised(async () => {
      if (this.failed)
        throw new SealgateError("IO", `ledger ${this.dir}: an earlier append failed; open the ledger again`, {
          cause: this.failed,
        });
      // Checked in the same turn as the write: appends are serialised, and the lock keeps out other processes.
      if (opts.expectedPrev !== undefined && opts.expectedPrev !== this.headDigest)
        throw new SealgateError(
          "LEDGER_TAIL_MOVED",
          `ledger ${this.dir}: the head is entry #${this.nextSeq - 1} (${this.headDigest}), not the expected ${opts.expectedPrev}; nothing was appended`,
        );
      // Never earlier than the entry before it, even if the clock stepped back.
      const now = entryTime(opts.now ?? new Date());
      const time = this.lastTime !== undefined && this.lastTime > now ? this.lastTime : now;
      const entry: LedgerEntry = { seq: this.nextSeq, prev: this.headDigest, time, ...item };
      const line = entryLine(entry);
      try {
        await this.fh.write(Buffer.concat([line, Buffer.from("\n")]));
        await this.fh.datasync();
      } catch (err) {
        this.failed = err;
        throw err;
      }
      this.leaves.push(leafHash(line));
      this.headDigest = sha256hex(line);
      this.nextSeq++;
      this.lastTime = time;
      this.objects.add(item.object);
      return { seq: entry.seq, entryDigest: this.headDigest, time };
    });
  }

  async includes(object: Digest): Promise<boolean> {
    // After the appends before it: a caller that appended and then asks sees its entry.
    await this.chain;
    if (this.failed)
      throw new SealgateError("IO", `ledger ${this.dir}: an earlier append failed; open the ledger again`, {
        cause: this.failed,
      });
    return this.objects.has(object);
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
    const line = Buffer.from(
      `${JSON.stringify({ chain: signed.chain, note: signed.note, ...(signed.tst ? { tst: signed.tst } : {}) })}\n`,
    );
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

function checkItem(item: AppendItem) {
  const ok =
    isDigest(item.object) &&
    (item.kind === "record" ? isDigest(item.seal) : item.kind === "event" && !("seal" in item));
  if (!ok) throw new SealgateError("USAGE", `not a ledger item: ${JSON.stringify(item)}`);
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
