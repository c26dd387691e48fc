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
      if (keep) keep.push(Buffer.from(got));
      size += n;
    }
    return { hex: h.digest("hex"), size };
  } catch (e) {
    return { error: String((e && e.message) || e), code: e && e.code };
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}
function read(paths) {
  const out = [];
  const chunks = [];
  for (const path of paths) out.push(hashFile(path, chunks));
  // One buffer of its own (not the shared pool), so it can be transferred, not copied.
  let size = 0;
  for (const c of chunks) size += c.length;
  const all = Buffer.allocUnsafeSlow(size);
  let at = 0;
  for (const c of chunks) at += c.copy(all, at);
  return { out, bytes: all.buffer };
}
function dir(path, hex2) {
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
function dirs(m) {
  const i = Atomics.add(m.next, 0, 1);
  if (i >= m.dirs.length) return;
  parentPort.postMessage({ id: m.id, index: i, out: dir(m.root + "/" + m.dirs[i], m.dirs[i]) });
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
    const next = new Int32Array(new SharedArrayBuffer(4));
    for (const w of this.workers) this.busy(w, +1).worker.postMessage({ id, op: "dirs", root, dirs, next });
    try {
      for (let i = 0; i < dirs.length; i++) {
        while (done[i] === undefined) await new Promise<void>((r) => (wake = r));
        yield done[i]!;
        done[i] = undefined;
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
