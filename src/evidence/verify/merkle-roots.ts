import { Worker } from "node:worker_threads";
import { SealgateError } from "../../core/errors.js";

/*
 * The Merkle half of `verify` on its own thread, so a long ledger is checked on two cores: the
 * main thread parses and chains every entry (one SHA-256 each) while this thread reads the same
 * bytes and computes the RFC 6962 leaf and node hashes (two SHA-256 each), keeping only a
 * compact range (O(log n) memory, as MerkleAccumulator in ledger/merkle.ts). Plain JavaScript
 * evaluated in place, like the hash pool, so it runs the same from sources and from dist/; the
 * tests hold its roots to ledger/merkle.ts and to the roots the ledger signs.
 */

const WORKER = `
const { parentPort, workerData } = require("node:worker_threads");
const { hash } = require("node:crypto");
const fs = require("node:fs");
const { path, end, sizes } = workerData;
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
const fd = fs.openSync(path, "r");
const buf = Buffer.allocUnsafe(1 << 20);
let carry = Buffer.alloc(0);
let pos = 0;
while (pos < end) {
  const n = fs.readSync(fd, buf, 0, Math.min(buf.length, end - pos), pos);
  if (n === 0) break;
  pos += n;
  const data = carry.length ? Buffer.concat([carry, buf.subarray(0, n)]) : buf.subarray(0, n);
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
  carry = Buffer.from(data.subarray(start));
}
fs.closeSync(fd);
parentPort.postMessage({ count, roots });
`;

export interface MerkleRoots {
  /** Complete (newline-terminated) lines within the first `end` bytes. */
  count: number;
  /** The root of the first `size` entries, for each requested size up to `count`. */
  roots: Map<number, Buffer>;
}

/** Roots of the ledger file's first `sizes` entries, reading at most `end` bytes, on a worker thread. */
export function merkleRoots(path: string, end: number, sizes: number[]): Promise<MerkleRoots> {
  const sorted = [...new Set(sizes)].sort((a, b) => a - b);
  return new Promise((resolve, reject) => {
    const worker = new Worker(WORKER, { eval: true, workerData: { path, end, sizes: sorted } });
    worker.once("message", (r: { count: number; roots: [number, string][] }) => {
      resolve({ count: r.count, roots: new Map(r.roots.map(([n, h]) => [n, Buffer.from(h, "hex")])) });
      void worker.terminate();
    });
    // After a result, the exit and a late rejection are no-ops.
    worker.once("exit", (code) =>
      reject(
        new SealgateError("IO", `the Merkle thread for ${path} stopped (exit ${code}) before its result`),
      ),
    );
    worker.once("error", (cause) =>
      reject(
        new SealgateError("IO", `cannot read ${path} to recompute its Merkle tree: ${cause.message}`, {
          cause,
        }),
      ),
    );
  });
}
