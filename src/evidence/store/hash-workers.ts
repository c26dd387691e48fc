import { availableParallelism } from "node:os";
import { Worker } from "node:worker_threads";

/*
 * SHA-256 of many stored files on worker threads, a batch per message: what `verify --store`
 * needs to re-hash every object on every core. One message per object (or a libuv round trip
 * per open, stat, read and close) costs more than hashing a small object, so each worker takes
 * a batch and reads and hashes it synchronously. Three kinds of batch:
 *   hash  a list of paths: each file's digest and size;
 *   read  a list of paths: the same, and the bytes, all in one transferred buffer (the small
 *         records and seal objects verify parses: read once, hashed where read, not copied back);
 *   dirs  every directory of the object store, shared by all workers, each taking the next
 *         directory as it finishes one (not waiting for the main thread), listing and hashing it
 *         there, and sending back only the names and the objects whose bytes do not match their
 *         name, so the main thread does next to nothing per object.
 * A worker serves queued `read` and `hash` messages between two directories, so the main
 * thread, which waits on them, is not held up behind the whole store.
 * Plain JavaScript evaluated in place, like source/digest/hash-pool.ts (one file per model, a
 * layer above: the store cannot import it), so it runs the same from sources and from dist/.
 */

const WORKER = `
const { parentPort } = require("node:worker_threads");
const { createHash } = require("node:crypto");
const fs = require("node:fs");
// 128 KiB: the bytes read are still in the core's L2 cache when hashed (see hash-pool.ts).
const buf = Buffer.allocUnsafe(128 << 10);
// An object's file name in the fs store: the 62 hex digits after its directory's two.
const NAME = /^[0-9a-f]{62}$/;
// Objects a read batch found intact, so that a pass over every directory running meanwhile
// does not read and hash them again. Each pass brings its own table, shared by the workers
// (an open-addressing table of SLOT words per object: state, the digest's 8 words, size low
// and high, filled to 3/4 at most), and a table lives only as long as its pass: nothing
// remembered by one verify is trusted by the next. Only digests that are the SHA-256 of bytes
// just read go in, so names chosen to collide cannot crowd it.
const passes = new Set();
const SLOT = 11;
function words(hex) {
  const w = new Int32Array(8);
  for (let k = 0; k < 8; k++) w[k] = parseInt(hex.slice(k * 8, k * 8 + 8), 16) | 0;
  return w;
}
function find(table, w, claim) {
  const slots = (table.length - 1) / SLOT;
  for (let n = 0, i = (w[0] >>> 0) % slots; n < slots; n++, i = (i + 1) % slots) {
    const at = 1 + i * SLOT;
    const state = Atomics.load(table, at);
    if (state === 0) {
      if (!claim || Atomics.compareExchange(table, at, 0, 1) !== 0) return -1;
      return at;
    }
    // 1: being written (not yet an answer); 2: written.
    if (state === 2 && w.every((x, k) => table[at + 1 + k] === x)) return claim ? -1 : at;
  }
  return -1;
}
function remember(hex, size) {
  for (const table of passes) {
    if (Atomics.add(table, 0, 1) >= ((table.length - 1) / SLOT) * 0.75) continue;
    const w = words(hex);
    const at = find(table, w, true);
    if (at < 0) continue;
    table.set(w, at + 1);
    table[at + 9] = size % 2 ** 32 | 0;
    table[at + 10] = Math.floor(size / 2 ** 32);
    Atomics.store(table, at, 2);
  }
}
function remembered(table, hex) {
  const at = find(table, words(hex), false);
  return at < 0 ? -1 : (table[at + 9] >>> 0) + table[at + 10] * 2 ** 32;
}
function hashFile(path, keep) {
  let fd;
  try {
    fd = fs.openSync(path, "r");
    const h = createHash("sha256");
    let size = 0;
    for (;;) {
      const n = fs.readSync(fd, buf, 0, buf.length, null);
      if (n === 0) break;
      const got = n === buf.length ? buf : buf.subarray(0, n);
      h.update(got);
      if (keep) keep(got);
      size += n;
    }
    return { hex: h.digest("hex"), size };
  } catch (e) {
    return { error: String((e && e.message) || e), code: e && e.code };
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}
// A read batch's bytes gather here (reused, grown as needed), then go out in one copy: no
// garbage per chunk for this thread's collector to lag behind on.
let gathered = Buffer.allocUnsafeSlow(1 << 20);
let used = 0;
function gather(chunk) {
  if (used + chunk.length > gathered.length) {
    const more = Buffer.allocUnsafeSlow(Math.max(gathered.length * 2, used + chunk.length));
    gathered.copy(more, 0, 0, used);
    gathered = more;
  }
  used += chunk.copy(gathered, used);
}
function read(paths) {
  const out = [];
  used = 0;
  for (const path of paths) {
    const r = hashFile(path, gather);
    out.push(r);
    // A store object's path ends in <2 hex>/<62 hex>: remembered if its bytes hash to its name.
    const name = path.slice(-65, -63) + path.slice(-62);
    if (r.hex === name && path.charAt(path.length - 63) === "/") remember(r.hex, r.size);
  }
  // A buffer of its own (not the shared pool), so it can be transferred, not copied again.
  const all = Buffer.allocUnsafeSlow(used);
  gathered.copy(all, 0, 0, used);
  return { out, bytes: all.buffer };
}
function dir(path, hex2, seen) {
  let names;
  try {
    names = fs.readdirSync(path);
  } catch (e) {
    return { error: String((e && e.message) || e), code: e && e.code };
  }
  const listed = [];
  const bad = [];
  let objects = 0;
  let bytes = 0;
  for (const name of names) {
    if (!NAME.test(name)) continue;
    listed.push(name);
    const known = remembered(seen, hex2 + name);
    if (known >= 0) {
      objects++;
      bytes += known;
      continue;
    }
    const r = hashFile(path + "/" + name);
    if (r.error !== undefined) bad.push({ name, error: r.error, code: r.code });
    else {
      objects++;
      bytes += r.size;
      if (r.hex !== hex2 + name) bad.push({ name, hex: r.hex });
    }
  }
  return { listed, bad, objects, bytes };
}
// Directories are claimed one at a time from a counter all workers share, so no worker waits
// for the main thread between them; between two, the messages queued for this worker (reads
// the main thread is waiting on) are served first: setImmediate runs after pending messages.
// At most WINDOW directories ahead of what the main thread has taken (next[1]): a main thread
// that falls behind does not make the workers pile up the whole store's names in its queue.
// Waiting by timer, not Atomics.wait, so the worker still serves reads meanwhile.
const WINDOW = 32;
function dirs(m) {
  passes.add(m.seen);
  const claimed = Atomics.load(m.next, 0);
  if (claimed < m.dirs.length && claimed >= Atomics.load(m.next, 1) + WINDOW) return void setTimeout(dirs, 1, m);
  const i = Atomics.add(m.next, 0, 1);
  if (i >= m.dirs.length) return void passes.delete(m.seen);
  parentPort.postMessage({ id: m.id, index: i, out: dir(m.root + "/" + m.dirs[i], m.dirs[i], m.seen) });
  setImmediate(dirs, m);
}
parentPort.on("message", (m) => {
  if (m.op === "read") {
    const r = read(m.paths);
    parentPort.postMessage({ id: m.id, out: r }, [r.bytes]);
  } else if (m.op === "dirs") dirs(m);
  else parentPort.postMessage({ id: m.id, out: m.paths.map((p) => hashFile(p)) });
});
`;

/** Objects read intact that a pass over the store can skip: 64 Ki slots (2.9 MB per pass). */
const SEEN = 1 << 16;

export type HashedFile = { hex: string; size: number } | { error: string; code?: string };

/** A directory of the object store, hashed: its object names, and those that did not match. */
export type HashedDir =
  | {
      listed: string[];
      bad: ({ name: string; hex: string } | { name: string; error: string; code?: string })[];
      objects: number;
      bytes: number;
    }
  | { error: string; code?: string };

export class FileHashWorkers {
  private readonly workers: { worker: Worker; busy: number }[];
  /** What each job's messages go to (a `dirs` job sends one per directory). */
  private readonly pending = new Map<number, (out: unknown, index?: number) => void>();
  private nextId = 0;

  constructor(size = Math.max(1, availableParallelism())) {
    this.workers = Array.from({ length: size }, () => {
      const worker = new Worker(WORKER, { eval: true });
      worker.on("message", ({ id, out, index }: { id: number; out: unknown; index?: number }) =>
        this.pending.get(id)?.(out, index),
      );
      // Idle workers never keep the process alive; a busy one does (ref'd while it works).
      worker.unref();
      return { worker, busy: 0 };
    });
  }

  /** SHA-256 (hex) and size of each file, or why it could not be read, in order. */
  hash(paths: string[]): Promise<HashedFile[]> {
    return this.one<HashedFile[]>({ op: "hash", paths });
  }

  /** The same, and each file's bytes (`bytes` holds them one after another, in order). */
  read(paths: string[]): Promise<{ out: HashedFile[]; bytes: ArrayBuffer }> {
    return this.one({ op: "read", paths });
  }

  /**
   * Every file named as an object (62 hex digits) in each directory `root/<dir>` hashed, every
   * worker taking the next directory as it finishes one; yielded in the order of `dirs` (each a
   * directory's two hex digits, the start of its objects' digests).
   */
  async *hashDirs(root: string, dirs: string[]): AsyncIterable<HashedDir> {
    if (dirs.length === 0) return;
    const id = this.nextId++;
    const done: (HashedDir | undefined)[] = new Array(dirs.length);
    let wake: (() => void) | undefined;
    this.pending.set(id, (out, index) => {
      done[index!] = out as HashedDir;
      wake?.();
    });
    // Directories claimed by the workers, and taken by the caller (see WORKER: WINDOW).
    const next = new Int32Array(new SharedArrayBuffer(8));
    // This pass's table of objects read intact meanwhile (see WORKER): a count, then SEEN slots of 11 words.
    const seen = new Int32Array(new SharedArrayBuffer(4 * (1 + SEEN * 11)));
    for (const w of this.workers)
      this.busy(w, +1).worker.postMessage({ id, op: "dirs", root, dirs, next, seen });
    try {
      for (let i = 0; i < dirs.length; i++) {
        while (done[i] === undefined) await new Promise<void>((r) => (wake = r));
        yield done[i]!;
        done[i] = undefined;
        Atomics.store(next, 1, i + 1);
      }
    } finally {
      // Every directory is claimed by now or, if the caller stopped early, none is left to claim.
      Atomics.store(next, 0, dirs.length);
      this.pending.delete(id);
      for (const w of this.workers) this.busy(w, -1);
    }
  }

  /** A one-message job, to the worker with the least queued (a `dirs` job counts as one). */
  private async one<T>(job: { op: string; paths: string[] }): Promise<T> {
    const w = this.workers.reduce((a, b) => (b.busy < a.busy ? b : a));
    const id = this.nextId++;
    this.busy(w, +1);
    try {
      return await new Promise<T>((resolve) => {
        this.pending.set(id, (out) => resolve(out as T));
        w.worker.postMessage({ id, ...job });
      });
    } finally {
      this.pending.delete(id);
      this.busy(w, -1);
    }
  }

  private busy(w: { worker: Worker; busy: number }, by: number) {
    w.busy += by;
    if (w.busy === 0) w.worker.unref();
    else w.worker.ref();
    return w;
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.worker.terminate()));
  }
}
