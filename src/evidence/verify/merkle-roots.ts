import { Worker } from "node:worker_threads";
import { SealgateError } from "../../core/errors.js";
import { type Line, readLineBatches } from "../ledger/ledger.js";

/*
 * The Merkle half of `verify` on its own thread, so a long ledger is checked on two cores: the
 * main thread parses and chains every entry (one SHA-256 each) while this thread computes the
 * RFC 6962 leaf and node hashes of the same lines (two SHA-256 each), keeping only a compact
 * range (O(log n) memory, as MerkleAccumulator in ledger/merkle.ts). The main thread reads the
 * lines once, from any LedgerReader, and hands each batch over as one transferred buffer of
 * newline-terminated lines (no copy across threads). Plain JavaScript evaluated in place, like
 * the hash pool, so it runs the same from sources and from dist/; the tests hold its roots to
 * ledger/merkle.ts and to the roots the ledger signs.
 */

const WORKER = `
const { parentPort, workerData } = require("node:worker_threads");
const { hash } = require("node:crypto");
const { sizes } = workerData;
// Hashes are kept as 32-character latin1 strings: a Buffer result costs twice the hashing.
const nodeInput = Buffer.alloc(65, 1);
const node = (left, right) => {
  nodeInput.write(left, 1, 32, "latin1");
  nodeInput.write(right, 33, 32, "latin1");
  return hash("sha256", nodeInput, "latin1");
};
const stack = [];
let count = 0;
let next = 0;
const roots = [];
const settle = () => {
  while (next < sizes.length && sizes[next] === count) {
    let root = stack.length ? stack[stack.length - 1].hash : hash("sha256", Buffer.alloc(0), "latin1");
    for (let i = stack.length - 2; i >= 0; i--) root = node(stack[i].hash, root);
    roots.push([count, Buffer.from(root, "latin1").toString("hex")]);
    next++;
  }
};
settle();
parentPort.on("message", (msg) => {
  if (msg === null) {
    parentPort.postMessage({ count, roots });
    return;
  }
  // One batch: whole lines, each followed by a newline; the newline's byte holds the leaf prefix.
  const data = Buffer.from(msg);
  let start = 0;
  let nl;
  while ((nl = data.indexOf(10, start)) >= 0) {
    const leaf = Buffer.allocUnsafe(nl - start + 1);
    leaf[0] = 0;
    data.copy(leaf, 1, start, nl);
    let top = { size: 1, hash: hash("sha256", leaf, "latin1") };
    while (stack.length && stack[stack.length - 1].size === top.size) {
      const left = stack.pop();
      top = { size: left.size * 2, hash: node(left.hash, top.hash) };
    }
    stack.push(top);
    count++;
    settle();
    start = nl + 1;
  }
});
`;

export interface MerkleRoots {
  /** Complete (newline-terminated) lines handed over. */
  count: number;
  /** The root of the first `size` entries, for each requested size up to `count`. */
  roots: Map<number, Buffer>;
}

/** A Merkle thread: push() batches of complete entry lines in order, then finish(). */
export class MerkleThread {
  private readonly worker: Worker;
  private readonly result: Promise<MerkleRoots>;

  constructor(sizes: number[], what = "the ledger") {
    const sorted = [...new Set(sizes)].sort((a, b) => a - b);
    this.worker = new Worker(WORKER, { eval: true, workerData: { sizes: sorted } });
    this.result = new Promise((resolve, reject) => {
      this.worker.once("message", (r: { count: number; roots: [number, string][] }) => {
        resolve({ count: r.count, roots: new Map(r.roots.map(([n, h]) => [n, Buffer.from(h, "hex")])) });
        void this.worker.terminate();
      });
      // After a result, the exit and a late rejection are no-ops.
      this.worker.once("exit", (code) =>
        reject(
          new SealgateError("IO", `the Merkle thread for ${what} stopped (exit ${code}) before its result`),
        ),
      );
      this.worker.once("error", (cause) =>
        reject(
          new SealgateError("IO", `cannot recompute the Merkle tree of ${what}: ${cause.message}`, { cause }),
        ),
      );
    });
    this.result.catch(() => {});
  }

  /** Hand over the complete lines of a batch (an incomplete one ends the ledger: not a leaf). */
  push(batch: Line[]): void {
    let size = 0;
    for (const l of batch) if (l.complete) size += l.line.length + 1;
    if (size === 0) return;
    // Its own ArrayBuffer (not the shared pool's), so it can be transferred.
    const out = Buffer.allocUnsafeSlow(size);
    let at = 0;
    for (const l of batch)
      if (l.complete) {
        at += l.line.copy(out, at);
        out[at++] = 10;
      }
    const ab = out.buffer as ArrayBuffer;
    this.worker.postMessage(ab, [ab]);
  }

  finish(): Promise<MerkleRoots> {
    this.worker.postMessage(null);
    return this.result;
  }

  /** Stop without a result (the walk failed). */
  async abort(): Promise<void> {
    await this.worker.terminate();
  }
}

/** Roots of the ledger file's first `sizes` entries, reading at most `end` bytes, on a worker thread. */
export async function merkleRoots(path: string, end: number, sizes: number[]): Promise<MerkleRoots> {
  const thread = new MerkleThread(sizes, path);
  try {
    for await (const batch of readLineBatches(path, end)) thread.push(batch);
  } catch (cause) {
    await thread.abort();
    throw new SealgateError("IO", `cannot read ${path} to recompute its Merkle tree`, { cause });
  }
  return thread.finish();
}
