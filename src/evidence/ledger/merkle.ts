import { createHash, hash } from "node:crypto";

/*
 * RFC 6962 / RFC 9162 Merkle tree hashing and proofs. Leaf hash = SHA-256(0x00 || leaf),
 * interior node = SHA-256(0x01 || left || right); the two prefixes keep a leaf from ever
 * passing for a node. The verify functions are the transparency-dev/merkle algorithms and
 * return booleans; the ledger verifier turns a false into a typed error.
 */

export type Hash = Buffer;

export const EMPTY_ROOT: Hash = createHash("sha256").digest();

/*
 * One-shot hashing of one buffer (a Hash object per call costs more than the copy), the digest
 * taken as a latin1 string and copied into a small pooled Buffer: Node allocates a fresh
 * ArrayBuffer for a "buffer" digest, which costs as much again as the hashing. Ledger.open
 * hashes every entry this way.
 */
// ("binary" is Node's other name for latin1, the one its hash() typings accept.)
const sha256 = (input: Buffer): Hash => Buffer.from(hash("sha256", input, "binary"), "latin1");

export function leafHash(leaf: Uint8Array): Hash {
  const input = Buffer.allocUnsafe(leaf.length + 1);
  input[0] = 0;
  input.set(leaf, 1);
  return sha256(input);
}

export function nodeHash(left: Uint8Array, right: Uint8Array): Hash {
  const input = Buffer.allocUnsafe(left.length + right.length + 1);
  input[0] = 1;
  input.set(left, 1);
  input.set(right, left.length + 1);
  return sha256(input);
}

/** Largest power of two strictly less than n (n >= 2). */
function split(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

/** MTH over leaf hashes [lo, hi). */
export function rootOf(leaves: readonly Hash[], lo = 0, hi = leaves.length): Hash {
  const n = hi - lo;
  if (n === 0) return EMPTY_ROOT;
  if (n === 1) return leaves[lo]!;
  const k = split(n);
  return nodeHash(rootOf(leaves, lo, lo + k), rootOf(leaves, lo + k, hi));
}

/** Audit path for leaf m in the tree of leaves [lo, hi) (RFC 6962 2.1.1). */
export function inclusionProof(leaves: readonly Hash[], m: number, lo = 0, hi = leaves.length): Hash[] {
  const n = hi - lo;
  if (m < 0 || m >= n) throw new RangeError(`leaf ${m} is outside a tree of ${n}`);
  if (n === 1) return [];
  const k = split(n);
  return m < k
    ? [...inclusionProof(leaves, m, lo, lo + k), rootOf(leaves, lo + k, hi)]
    : [...inclusionProof(leaves, m - k, lo + k, hi), rootOf(leaves, lo, lo + k)];
}

/** Consistency proof from the first m leaves to all of [lo, hi) (RFC 6962 2.1.2). */
export function consistencyProof(leaves: readonly Hash[], m: number, lo = 0, hi = leaves.length): Hash[] {
  if (m < 0 || m > hi - lo) throw new RangeError(`size ${m} is outside a tree of ${hi - lo}`);
  if (m === 0 || m === hi - lo) return [];
  return subproof(leaves, m, lo, hi, true);
}

function subproof(leaves: readonly Hash[], m: number, lo: number, hi: number, complete: boolean): Hash[] {
  const n = hi - lo;
  if (m === n) return complete ? [] : [rootOf(leaves, lo, hi)];
  const k = split(n);
  return m <= k
    ? [...subproof(leaves, m, lo, lo + k, complete), rootOf(leaves, lo + k, hi)]
    : [...subproof(leaves, m - k, lo + k, hi, false), rootOf(leaves, lo, lo + k)];
}

const eq = (a: Uint8Array, b: Uint8Array) => a.length === b.length && Buffer.from(a).equals(Buffer.from(b));

/** RFC 9162 2.1.3.2. */
export function verifyInclusion(
  index: number,
  size: number,
  leaf: Uint8Array,
  proof: readonly Uint8Array[],
  root: Uint8Array,
): boolean {
  if (!Number.isSafeInteger(index) || !Number.isSafeInteger(size) || index < 0 || index >= size) return false;
  if (leaf.length !== 32 || root.length !== 32 || proof.some((p) => p.length !== 32)) return false;
  let fn = BigInt(index);
  let sn = BigInt(size - 1);
  let r: Uint8Array = leaf;
  for (const p of proof) {
    if (sn === 0n) return false;
    if (fn & 1n || fn === sn) {
      r = nodeHash(p, r);
      if (!(fn & 1n)) {
        while (!(fn & 1n) && fn !== 0n) {
          fn >>= 1n;
          sn >>= 1n;
        }
      }
    } else {
      r = nodeHash(r, p);
    }
    fn >>= 1n;
    sn >>= 1n;
  }
  return sn === 0n && eq(r, root);
}

/** RFC 9162 2.1.4.2. */
export function verifyConsistency(
  size1: number,
  size2: number,
  proof: readonly Uint8Array[],
  root1: Uint8Array,
  root2: Uint8Array,
): boolean {
  if (!Number.isSafeInteger(size1) || !Number.isSafeInteger(size2) || size1 < 0 || size2 < size1)
    return false;
  if (proof.some((p) => p.length !== 32)) return false;
  // An empty first tree proves nothing about a log (transparency-dev refuses it too).
  if (size1 === 0) return false;
  if (size1 === size2) return proof.length === 0 && eq(root1, root2);
  if (proof.length === 0) return false;
  const path = (size1 & (size1 - 1)) === 0 ? [root1, ...proof] : [...proof];
  let fn = BigInt(size1 - 1);
  let sn = BigInt(size2 - 1);
  while (fn & 1n) {
    fn >>= 1n;
    sn >>= 1n;
  }
  let fr: Uint8Array = path[0]!;
  let sr: Uint8Array = path[0]!;
  for (const c of path.slice(1)) {
    if (sn === 0n) return false;
    if (fn & 1n || fn === sn) {
      fr = nodeHash(c, fr);
      sr = nodeHash(c, sr);
      if (!(fn & 1n)) {
        while (!(fn & 1n) && fn !== 0n) {
          fn >>= 1n;
          sn >>= 1n;
        }
      }
    } else {
      sr = nodeHash(sr, c);
    }
    fn >>= 1n;
    sn >>= 1n;
  }
  return sn === 0n && eq(fr, root1) && eq(sr, root2);
}

/**
 * The root of a growing tree in O(log n) memory: a stack of perfect-subtree roots (a compact
 * range), as a binary counter. Used to recompute checkpoint roots while streaming a ledger.
 */
export class MerkleAccumulator {
  private readonly stack: { size: number; hash: Hash }[] = [];
  size = 0;

  push(leaf: Hash): void {
    let node = { size: 1, hash: leaf };
    while (this.stack.length && this.stack[this.stack.length - 1]!.size === node.size) {
      const left = this.stack.pop()!;
      node = { size: left.size * 2, hash: nodeHash(left.hash, node.hash) };
    }
    this.stack.push(node);
    this.size++;
  }

  root(): Hash {
    if (this.stack.length === 0) return EMPTY_ROOT;
    let r = this.stack[this.stack.length - 1]!.hash;
    for (let i = this.stack.length - 2; i >= 0; i--) r = nodeHash(this.stack[i]!.hash, r);
    return r;
  }
}
