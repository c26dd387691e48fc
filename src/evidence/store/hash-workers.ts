import { availableParallelism } from "node:os";
import { Worker } from "node:worker_threads";

/*
 * SHA-256 of many stored files on worker threads, a batch of paths per message: what
 * `verify --store` needs to re-hash every object on every core. One message per object (or a
 * libuv round trip per open, stat, read and close) costs more than hashing a small object, so
 * each worker takes a batch and reads and hashes it synchronously. Plain JavaScript evaluated in
 * place, like source/digest/hash-pool.ts (one file per model, a layer above: the store cannot
 * import it), so it runs the same from sources and from dist/.
 */

const WORKER = `
const { parentPort } = require("node:worker_threads");
const { createHash } = require("node:crypto");
const fs = require("node:fs");
// 128 KiB: the bytes read are still in the core's L2 cache when hashed (see hash-pool.ts).
const buf = Buffer.allocUnsafe(128 << 10);
parentPort.on("message", ({ id, paths }) => {
  const out = [];
  for (const path of paths) {
    let fd;
    try {
      fd = fs.openSync(path, "r");
      const h = createHash("sha256");
      let size = 0;
      for (;;) {
        const n = fs.readSync(fd, buf, 0, buf.length, null);
        if (n === 0) break;
        h.update(n === buf.length ? buf : buf.subarray(0, n));
        size += n;
      }
      out.push({ hex: h.digest("hex"), size });
    } catch (e) {
      out.push({ error: String((e && e.message) || e), code: e && e.code });
    } finally {
      if (fd !== undefined) fs.closeSync(fd);
    }
  }
  parentPort.postMessage({ id, out });
});
`;

export type HashedFile = { hex: string; size: number } | { error: string; code?: string };

export class FileHashWorkers {
  private readonly workers: Worker[];
  private readonly idle: Worker[];
  private readonly waiting: (() => void)[] = [];
  private readonly pending = new Map<number, (r: HashedFile[]) => void>();
  private nextId = 0;

  constructor(size = Math.max(1, availableParallelism())) {
    this.workers = Array.from({ length: size }, () => {
      const w = new Worker(WORKER, { eval: true });
      w.on("message", ({ id, out }: { id: number; out: HashedFile[] }) => {
        this.pending.get(id)?.(out);
        this.pending.delete(id);
      });
      // Idle workers never keep the process alive; a busy one does (ref'd while it works).
      w.unref();
      return w;
    });
    this.idle = [...this.workers];
  }

  /** SHA-256 (hex) and size of each file, or why it could not be read, in order. */
  async hash(paths: string[]): Promise<HashedFile[]> {
    while (this.idle.length === 0) await new Promise<void>((r) => this.waiting.push(r));
    const worker = this.idle.pop()!;
    const id = this.nextId++;
    try {
      worker.ref();
      return await new Promise<HashedFile[]>((resolve) => {
        this.pending.set(id, resolve);
        worker.postMessage({ id, paths });
      });
    } finally {
      worker.unref();
      this.idle.push(worker);
      this.waiting.shift()?.();
    }
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}
