import { SealgateError } from "../../core/errors.js";
import type { Digest } from "../../core/digest.js";
import type { Checkpoint, SignedCheckpoint } from "../ledger/checkpoint.js";
import { GENESIS, type LedgerEntry, type LedgerReader, parseEntry, sha256hex } from "../ledger/ledger.js";
import type { Trust } from "../../crypto/pki/trust.js";
import type { EvidenceStore } from "../store/evidence-store.js";
import type { SealIndex } from "../store/seal-index.js";
import { type Finding, finding, findingOf } from "./findings.js";
import { type MerkleRoots, MerkleThread } from "./merkle-roots.js";
import { References } from "./references.js";
import { followEntry, objectsOf } from "./reference-graph.js";
import { rehashAll } from "./rehash.js";
import { Verifier } from "./verifier.js";

/*
 * `sealgate verify --store`: recompute everything and report every failure, pinned to its
 * entry, checkpoint or object. Every byte: each ledger line (canonical form, sequence, hash
 * link, time order), each checkpoint (signature, root), and every object in the store (its name
 * is the SHA-256 of its bytes), with the reference graph walked from each entry
 * (reference-graph.ts) so a missing object names the entry that needs it and an object nothing
 * references is a warning. Entries are streamed and the Merkle roots accumulated in O(log n)
 * memory on a second thread (merkle-roots.ts); the sets of referenced and stored digests are
 * the one cost that grows with the store, a few dozen bytes per object.
 */

export interface StoreReport {
  entries: number;
  checkpoints: number;
  /** Entries after the last signed checkpoint (appended, not yet covered by a signature). */
  uncheckpointed: number;
  /** Objects re-hashed, and their bytes (0 with `objects: false`). */
  objects: number;
  bytes: number;
  /** Record entries in the v1 form, which predate seal objects (their renderings come from index/sealed.jsonl). */
  legacyRecords: number;
  /** Failures: any one makes the store unverified (exit 1). */
  findings: Finding[];
  /** Worth knowing, not failures: objects nothing sealed references, legacy records the index does not cover. */
  warnings: Finding[];
}

export interface VerifyOptions {
  trust?: Trust;
  onProgress?: (bytesDone: number, bytesTotal: number) => void;
  /** Re-hash every object and walk the reference graph (default true). */
  objects?: boolean;
}

/** What is verified: the objects, the ledger, and the seal index for records older than seal objects. */
export interface StoreParts {
  store: EvidenceStore;
  ledger: LedgerReader;
  index?: SealIndex;
}

type GoodCheckpoint = Checkpoint & { index: number };

async function loadCheckpoints(ledger: LedgerReader, trust: Trust | undefined, findings: Finding[]) {
  const good: GoodCheckpoint[] = [];
  let index = 0;
  let verifier: Verifier | undefined;
  const origin = await ledger.readOrigin();
  for await (const batch of ledger.checkpointLines())
    for (const { line, complete } of batch) {
      if (!trust)
        throw new SealgateError(
          "USAGE",
          "the ledger has signed checkpoints: pass --ca with your organisation's root CA to verify them",
        );
      verifier ??= new Verifier(trust);
      const c = await checkpointLine(verifier, line, complete, { checkpoint: index++ }, findings);
      if (c) checkpointOrder(c, origin, good, findings);
    }
  return good;
}

async function checkpointLine(
  verifier: Verifier,
  line: Buffer,
  complete: boolean,
  where: { checkpoint: number },
  findings: Finding[],
): Promise<GoodCheckpoint | undefined> {
  if (!complete) {
    findings.push(finding("CHECKPOINT_INVALID", "container", "incomplete last line", where));
    return undefined;
  }
  let parsed: SignedCheckpoint;
  try {
    parsed = JSON.parse(line.toString("utf8")) as SignedCheckpoint;
  } catch (err) {
    findings.push(findingOf(err, "container", where, "CHECKPOINT_INVALID"));
    return undefined;
  }
  const { checkpoint: c, findings: refused } = await verifier.verifyCheckpoint(parsed, where);
  findings.push(...refused);
  return c && { ...c, index: where.checkpoint };
}

/** A checkpoint of this log, no smaller and no older than the one before it. */
function checkpointOrder(
  c: GoodCheckpoint,
  origin: string | undefined,
  good: GoodCheckpoint[],
  findings: Finding[],
) {
  const where = { checkpoint: c.index };
  if (origin && c.origin !== origin) {
    findings.push(
      finding(
        "CHECKPOINT_INVALID",
        "inclusion",
        `origin ${c.origin} is not this ledger's (${origin})`,
        where,
      ),
    );
    return;
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
    return;
  }
  good.push(c);
}

export async function verifyStore(parts: StoreParts, opts: VerifyOptions = {}): Promise<StoreReport> {
  const findings: Finding[] = [];
  const warnings: Finding[] = [];
  // Checkpoints first: entries only grow, so entries read afterwards hold all each one signed.
  const checkpoints = await loadCheckpoints(parts.ledger, opts.trust, findings);
  const objects = opts.objects !== false;
  const refs = new References();
  // Review PDFs count as referenced only once a seal object names them (seal.reviewPdfs): the
  // index that lists them is derived and unsigned. Unreferenced, they are named as what they are.
  for (const e of parts.index?.reviewPdfEntries() ?? [])
    refs.notes.set(
      e.pdf,
      `the review PDF of package ${e.package} (index/review-pdfs.jsonl); no seal object names it yet`,
    );
  // Every stored object is re-hashed while the entries are walked (on the thread pool).
  const rehash = objects ? rehashAll(parts.store) : undefined;
  rehash?.catch(() => {});
  const merkle = new MerkleThread(checkpoints.map((c) => c.size));
  let walked: Walk;
  try {
    walked = await walkEntries(parts, merkle, objects ? refs : undefined, opts, findings, warnings);
  } catch (err) {
    await merkle.abort();
    throw err;
  }
  checkRoots(checkpoints, await merkle.finish(), findings);
  let stored = { objects: 0, bytes: 0 };
  if (rehash) stored = refs.settle(await rehash, findings, warnings);
  const covered = checkpoints.reduce((m, c) => Math.max(m, c.size), 0);
  return {
    entries: walked.count,
    checkpoints: checkpoints.length,
    uncheckpointed: Math.max(0, walked.count - covered),
    ...stored,
    legacyRecords: walked.legacy,
    findings,
    warnings,
  };
}

/** Where the walk is: the entry before the next one. */
interface Chain {
  prevDigest: string;
  prevSeq: number;
  /** The time of the entry before (v1 entries carry none). */
  prevTime: string | undefined;
  /** Seen a v2 entry: a v1 entry may no longer follow. */
  v2: boolean;
  /**
   * The previous line's findings, held back one line: when its prev did not match, the line
   * after it says which side changed (see `settle`).
   */
  held?: Held;
}

interface Held {
  entry: number;
  findings: Finding[];
  /** Its prev did not match the digest of the line before it. */
  broken: boolean;
}

interface Walk {
  count: number;
  legacy: number;
}

/** Every entry, in order, with the objects each reaches; returns how many lines were read. */
async function walkEntries(
  parts: StoreParts,
  merkle: MerkleThread,
  refs: References | undefined,
  opts: VerifyOptions,
  findings: Finding[],
  warnings: Finding[],
): Promise<Walk> {
  const chain: Chain = { prevDigest: GENESIS, prevSeq: -1, prevTime: undefined, v2: false };
  const walk: Walk = { count: 0, legacy: 0 };
  let bytes = 0;
  for await (const batch of parts.ledger.entryLines()) {
    merkle.push(batch);
    const follow: [LedgerEntry, number][] = [];
    for (const { line, complete } of batch) {
      const i = walk.count++;
      if (!complete) {
        settle(chain, false, findings);
        findings.push(
          finding("LEDGER_TORN_TAIL", "inclusion", `incomplete last line (${line.length} bytes)`, {
            entry: i,
          }),
        );
        break;
      }
      const entry = checkEntry(line, i, chain, findings);
      if (entry?.kind === "record" && !entry.seal) walk.legacy++;
      if (entry && refs) follow.push([entry, i]);
      bytes += line.length + 1;
      if (opts.onProgress && (i & 1023) === 0) opts.onProgress(bytes, bytes);
    }
    // Only when objects are checked: the chain alone never waits on the store.
    if (refs) await followAll(parts, follow, refs, findings, warnings);
  }
  settle(chain, false, findings);
  opts.onProgress?.(bytes, bytes);
  return walk;
}

/**
 * Entries whose objects (record, seal object) are read in one batch, and batches read ahead of
 * the one being followed: reads overlap with parsing, and at most a few hundred kB are held.
 */
const FOLLOW_BATCH = 128;
const READ_AHEAD = 4;

async function followAll(
  parts: StoreParts,
  entries: [LedgerEntry, number][],
  refs: References,
  findings: Finding[],
  warnings: Finding[],
) {
  const chunks: [LedgerEntry, number][][] = [];
  for (let k = 0; k < entries.length; k += FOLLOW_BATCH) chunks.push(entries.slice(k, k + FOLLOW_BATCH));
  const reads: Promise<Map<string, Uint8Array | { error: unknown }>>[] = [];
  let ahead = 0;
  const readAhead = () => {
    const chunk = chunks[ahead++];
    if (!chunk) return;
    const read = readObjects(
      parts.store,
      chunk.flatMap(([entry]) => objectsOf(entry)),
    );
    read.catch(() => {});
    reads.push(read);
  };
  for (let k = 0; k < READ_AHEAD; k++) readAhead();
  for (const chunk of chunks) {
    const got = await reads.shift()!;
    readAhead();
    const read = (d: Digest) => {
      const r = got.get(d)!;
      if (r instanceof Uint8Array) return r;
      throw r.error;
    };
    const follow = { read, ...(parts.index ? { index: parts.index } : {}) };
    // In entry order, so findings keep it.
    for (const [entry, i] of chunk) {
      const event = followEntry(follow, entry, i, refs, findings, warnings);
      if (event) await event;
    }
  }
}

/** Objects' bytes, each re-hashed, or the error get() gives: in one batch when the store can. */
async function readObjects(store: EvidenceStore, digests: Digest[]) {
  const got = store.getMany
    ? await store.getMany(digests)
    : await Promise.all(digests.map((d) => store.get(d).catch((error: unknown) => ({ error }))));
  return new Map(digests.map((d, k) => [d, got[k]!]));
}

/** One entry on its own: canonical, next in sequence, chained to the entry before it, not earlier. */
function checkEntry(line: Buffer, i: number, chain: Chain, findings: Finding[]): LedgerEntry | null {
  const entry = parseEntry(line);
  const where = { entry: i };
  const own: Finding[] = [];
  let broken = false;
  if (!entry) {
    own.push(finding("ENTRY_MALFORMED", "inclusion", "not a canonical ledger entry (v1 or v2)", where));
  } else {
    if (entry.seq !== chain.prevSeq + 1)
      own.push(
        finding(
          "ENTRY_SEQUENCE",
          "inclusion",
          `sequence ${entry.seq} follows ${chain.prevSeq}: entries are missing, duplicated or reordered here`,
          where,
        ),
      );
    broken = entry.prev !== chain.prevDigest;
    if (broken)
      own.push(
        finding(
          "ENTRY_CHAIN_BROKEN",
          "inclusion",
          `prev does not match the digest of the entry before it (entry ${i - 1} or this one was altered)`,
          where,
        ),
      );
    checkTime(entry, chain, where, own);
    chain.prevSeq = entry.seq;
  }
  settle(chain, entry !== null && entry.prev === chain.prevDigest, findings);
  chain.held = { entry: i, findings: own, broken };
  chain.prevDigest = sha256hex(line);
  return entry;
}

/**
 * Reports the held line's findings once the next line is known. A held line whose prev did not
 * match, but whose own bytes the next line's prev confirms, is intact: the line before it was
 * altered, so the break is pinned there, and the held line's time check (made against the
 * altered line) is dropped. With a sequence gap the lines are missing or extra, and it stays as is.
 */
function settle(chain: Chain, heldConfirmed: boolean, findings: Finding[]) {
  const held = chain.held;
  if (!held) return;
  chain.held = undefined;
  // A sequence gap explains the break by missing or extra lines, not by an altered one.
  const gap = held.findings.some((f) => f.code === "ENTRY_SEQUENCE");
  if (!held.broken || !heldConfirmed || gap) {
    findings.push(...held.findings);
    return;
  }
  const altered = held.entry - 1;
  for (const f of held.findings) {
    if (f.code === "ENTRY_TIME_BACKWARDS") continue;
    if (f.code !== "ENTRY_CHAIN_BROKEN") findings.push(f);
    else
      findings.push(
        finding(
          "ENTRY_CHAIN_BROKEN",
          "inclusion",
          `altered: its digest is not the prev that entry ${held.entry} records, and entry ${held.entry + 1} confirms entry ${held.entry}`,
          { entry: altered },
        ),
      );
  }
}

/** v1 lines only before v2 lines, and v2 times never decreasing. */
function checkTime(entry: LedgerEntry, chain: Chain, where: { entry: number }, findings: Finding[]) {
  if (entry.time === undefined) {
    if (chain.v2)
      findings.push(
        finding(
          "ENTRY_MALFORMED",
          "inclusion",
          "a v1 entry after a v2 entry: v1 lines only precede v2 lines",
          where,
        ),
      );
    return;
  }
  chain.v2 = true;
  if (chain.prevTime !== undefined && entry.time < chain.prevTime)
    findings.push(
      finding(
        "ENTRY_TIME_BACKWARDS",
        "inclusion",
        `appended at ${entry.time}, before the entry before it (${chain.prevTime})`,
        where,
      ),
    );
  // Each time against the one before it: non-decreasing pairs make a non-decreasing ledger, and one
  // altered time is reported once, not against every entry after it.
  chain.prevTime = entry.time;
}

/** Each valid checkpoint, smallest first: the ledger still holds its entries, and they hash to its root. */
function checkRoots(checkpoints: GoodCheckpoint[], merkle: MerkleRoots, findings: Finding[]) {
  const { count: complete, roots } = merkle;
  for (const c of [...checkpoints].sort((x, y) => x.size - y.size)) {
    const root = roots.get(c.size);
    const where = { checkpoint: c.index };
    if (!root)
      findings.push(
        finding(
          "LEDGER_TRUNCATED",
          "inclusion",
          `checkpoint signed ${c.size} entries; the ledger holds ${complete}`,
          where,
        ),
      );
    else if (!root.equals(c.root))
      findings.push(
        finding(
          "CHECKPOINT_ROOT_MISMATCH",
          "inclusion",
          `the first ${c.size} entries no longer hash to the root signed in this checkpoint`,
          where,
        ),
      );
  }
}
