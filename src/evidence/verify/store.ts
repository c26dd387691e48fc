import { createHash } from "node:crypto";
import { readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { pipeline } from "node:stream/promises";
import { SealgateError } from "../../core/errors.js";
import type { Checkpoint, SignedCheckpoint } from "../ledger/checkpoint.js";
import {
  CHECKPOINTS,
  ENTRIES,
  GENESIS,
  type LedgerEntry,
  ORIGIN,
  parseEntry,
  readLineBatches,
  readLines,
  sha256hex,
} from "../ledger/ledger.js";
import type { Trust } from "../../crypto/pki/trust.js";
import { referencedObjects } from "../../record/objects.js";
import { PromotionRecord } from "../../record/schema.js";
import { FsObjectStore } from "../store/fs-store.js";
import { type Finding, finding, findingOf } from "./findings.js";
import { type MerkleRoots, merkleRoots } from "./merkle-roots.js";
import { Verifier } from "./verifier.js";

/*
 * `sealgate verify --store DIR`: recompute everything and report every failure, pinned to its
 * entry, checkpoint or object. Entries are streamed and the Merkle roots are accumulated in
 * O(log n) memory (on a second thread, merkle-roots.ts), so memory stays flat however long the
 * ledger is.
 */

export interface StoreReport {
  entries: number;
  checkpoints: number;
  /** Entries after the last signed checkpoint (appended, not yet covered by a signature). */
  uncheckpointed: number;
  findings: Finding[];
}

export interface VerifyOptions {
  trust?: Trust;
  onProgress?: (bytesDone: number, bytesTotal: number) => void;
  /** Re-hash every referenced object (default true). */
  objects?: boolean;
}

async function loadCheckpoints(dir: string, trust: Trust | undefined, findings: Finding[]) {
  const good: (Checkpoint & { index: number })[] = [];
  let index = 0;
  const path = join(dir, CHECKPOINTS);
  if (!(await stat(path).catch(() => null))) return good;
  if (!trust) {
    throw new SealgateError(
      "USAGE",
      "the ledger has signed checkpoints: pass --ca with your organisation's root CA to verify them",
    );
  }
  const verifier = new Verifier(trust);
  const origin = (await readFile(join(dir, ORIGIN), "utf8").catch(() => "")).trim();
  for await (const { line, complete } of readLines(path)) {
    const where = { checkpoint: index++ };
    if (!complete) {
      findings.push(finding("CHECKPOINT_INVALID", "container", "incomplete last line", where));
      continue;
    }
    let parsed: SignedCheckpoint;
    try {
      parsed = JSON.parse(line.toString("utf8")) as SignedCheckpoint;
    } catch (err) {
      findings.push(findingOf(err, "container", where, "CHECKPOINT_INVALID"));
      continue;
    }
    const { checkpoint: c, findings: refused } = await verifier.verifyCheckpoint(parsed, where);
    findings.push(...refused);
    if (!c) continue;
    if (origin && c.origin !== origin) {
      findings.push(
        finding(
          "CHECKPOINT_INVALID",
          "inclusion",
          `origin ${c.origin} is not this ledger's (${origin})`,
          where,
        ),
      );
      continue;
    }
    const prev = good[good.length - 1];
    if (prev && (c.size < prev.size || c.time < prev.time)) {
      findings.push(
        finding(
          "CHECKPOINT_INVALID",
          "inclusion",
          `size or time goes backwards after checkpoint ${prev.index}`,
          where,
        ),
      );
      continue;
    }
    good.push({ ...c, index: where.checkpoint });
  }
  return good;
}

async function checkObject(store: FsObjectStore, digest: string, entry: number, findings: Finding[]) {
  try {
    await pipeline(await store.open(digest as never), createHash("sha256"));
    return true;
  } catch (err) {
    findings.push(findingOf(err, "container", { entry, object: digest }, "OBJECT_UNREADABLE"));
    return false;
  }
}

/** Check a record object and then each object it refers to. */
async function checkRecord(store: FsObjectStore, digest: string, entry: number, findings: Finding[]) {
  if (!(await checkObject(store, digest, entry, findings))) return;
  const bytes = await store.get(digest as never);
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(bytes).toString("utf8"));
  } catch {
    parsed = undefined;
  }
  const record = PromotionRecord.safeParse(parsed);
  if (!record.success) {
    const issue = record.error.issues[0];
    findings.push(
      finding(
        "RECORD_INVALID",
        "container",
        `not a promotion record: ${issue?.path.join(".") || "(root)"}: ${issue?.message}`,
        { entry, object: digest },
      ),
    );
    return;
  }
  for (const ref of referencedObjects(record.data)) await checkObject(store, ref, entry, findings);
}

export async function verifyStore(root: string, opts: VerifyOptions = {}): Promise<StoreReport> {
  const dir = join(root, "ledger");
  const entriesPath = join(dir, ENTRIES);
  const total = (await stat(entriesPath).catch(() => null))?.size;
  if (total === undefined)
    throw new SealgateError("USAGE", `${root} is not a sealgate store (no ledger/${ENTRIES})`);
  const findings: Finding[] = [];
  const checkpoints = await loadCheckpoints(dir, opts.trust, findings);
  // The Merkle roots are computed on a second thread from the same bytes while this one checks
  // each entry; both read no further than the size seen now, so an append meanwhile is ignored.
  const merkle = merkleRoots(
    entriesPath,
    total,
    checkpoints.map((c) => c.size),
  );
  merkle.catch(() => {});
  const count = await walkEntries(entriesPath, total, new FsObjectStore(root), opts, findings);
  opts.onProgress?.(total, total);
  checkRoots(checkpoints, await merkle, findings);
  const covered = checkpoints.reduce((m, c) => Math.max(m, c.size), 0);
  return {
    entries: count,
    checkpoints: checkpoints.length,
    uncheckpointed: Math.max(0, count - covered),
    findings,
  };
}

/** Where the walk is: the digest and sequence number the next entry must follow. */
interface Chain {
  prevDigest: string;
  prevSeq: number;
}

/** Every entry up to `total` bytes, in order, with the objects each names; returns how many lines were read. */
async function walkEntries(
  path: string,
  total: number,
  store: FsObjectStore,
  opts: VerifyOptions,
  findings: Finding[],
): Promise<number> {
  const chain: Chain = { prevDigest: GENESIS, prevSeq: -1 };
  const objects = opts.objects !== false;
  let count = 0;
  for await (const batch of readLineBatches(path, total)) {
    for (const { line, offset, complete } of batch) {
      const i = count++;
      if (!complete) {
        findings.push(
          finding("LEDGER_TORN_TAIL", "inclusion", `incomplete last line (${line.length} bytes)`, {
            entry: i,
          }),
        );
        return count;
      }
      const entry = checkEntry(line, i, chain, findings);
      // Awaited only when objects are checked: an await per entry would dominate otherwise.
      if (entry && objects) await checkRecord(store, entry.record, i, findings);
      if (opts.onProgress && (i & 1023) === 0) opts.onProgress(offset, total);
    }
  }
  return count;
}

/** One entry on its own: canonical, next in sequence, chained to the entry before it. */
function checkEntry(line: Buffer, i: number, chain: Chain, findings: Finding[]): LedgerEntry | null {
  const entry = parseEntry(line);
  if (!entry) {
    findings.push(finding("ENTRY_MALFORMED", "inclusion", "not a canonical ledger entry", { entry: i }));
  } else {
    if (entry.seq !== chain.prevSeq + 1) {
      findings.push(
        finding(
          "ENTRY_SEQUENCE",
          "inclusion",
          `sequence ${entry.seq} follows ${chain.prevSeq}: entries are missing, duplicated or reordered here`,
          { entry: i },
        ),
      );
    }
    if (entry.prev !== chain.prevDigest) {
      findings.push(
        finding(
          "ENTRY_CHAIN_BROKEN",
          "inclusion",
          `prev does not match the digest of the entry before it (entry ${i - 1} or this one was altered)`,
          { entry: i },
        ),
      );
    }
    chain.prevSeq = entry.seq;
  }
  chain.prevDigest = sha256hex(line);
  return entry;
}

/** Each valid checkpoint, smallest first: the ledger still holds its entries, and they hash to its root. */
function checkRoots(
  checkpoints: (Checkpoint & { index: number })[],
  merkle: MerkleRoots,
  findings: Finding[],
) {
  const { count: complete, roots } = merkle;
  for (const c of [...checkpoints].sort((x, y) => x.size - y.size)) {
    const root = roots.get(c.size);
    if (!root) {
      findings.push(
        finding(
          "LEDGER_TRUNCATED",
          "inclusion",
          `checkpoint signed ${c.size} entries; the ledger holds ${complete}`,
          {
            checkpoint: c.index,
          },
        ),
      );
    } else if (!root.equals(c.root)) {
      findings.push(
        finding(
          "CHECKPOINT_ROOT_MISMATCH",
          "inclusion",
          `the first ${c.size} entries no longer hash to the root signed in this checkpoint`,
          { checkpoint: c.index },
        ),
      );
    }
  }
}
