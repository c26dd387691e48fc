import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  consistencyProof,
  inclusionProof,
  leafHash,
  MerkleAccumulator,
  rootOf,
  verifyConsistency,
  verifyInclusion,
} from "../../../src/evidence/ledger/merkle.js";

const VECTORS = join(import.meta.dirname, "../../fixtures/vectors/merkle");
const b64 = (s: string | null | undefined) => Buffer.from(s ?? "", "base64");

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? files(p) : p.endsWith(".json") ? [p] : [];
  });
}

describe("transparency-dev/merkle test vectors", () => {
  const inclusion = files(join(VECTORS, "inclusion"));
  const consistency = files(join(VECTORS, "consistency"));
  it("has the vectors", () => {
    expect(inclusion.length).toBeGreaterThan(50);
    expect(consistency.length).toBeGreaterThan(50);
  });
  it.each(inclusion.map((f) => [f.slice(VECTORS.length + 1), f]))("inclusion %s", (_name, file) => {
    const v = JSON.parse(readFileSync(file, "utf8"));
    const ok = verifyInclusion(v.leafIdx, v.treeSize, b64(v.leafHash), (v.proof ?? []).map(b64), b64(v.root));
    expect(ok).toBe(!v.wantErr);
  });
  it.each(consistency.map((f) => [f.slice(VECTORS.length + 1), f]))("consistency %s", (_name, file) => {
    const v = JSON.parse(readFileSync(file, "utf8"));
    const ok = verifyConsistency(v.size1, v.size2, (v.proof ?? []).map(b64), b64(v.root1), b64(v.root2));
    expect(ok).toBe(!v.wantErr);
  });
});

describe("proofs sealgate generates", () => {
  const leaves = (n: number) => Array.from({ length: n }, (_, i) => leafHash(Buffer.from(`entry ${i}`)));

  it("verify for every leaf and every pair of sizes up to 40", () => {
    const all = leaves(40);
    for (let n = 1; n <= 40; n++) {
      const root = rootOf(all, 0, n);
      for (let m = 0; m < n; m++) {
        expect(verifyInclusion(m, n, all[m]!, inclusionProof(all, m, 0, n), root)).toBe(true);
      }
      for (let m = 1; m <= n; m++) {
        const proof = consistencyProof(all, m, 0, n);
        expect(verifyConsistency(m, n, proof, rootOf(all, 0, m), root)).toBe(true);
      }
    }
  });

  it("the streaming accumulator agrees with the recursive root at every size", () => {
    const all = leaves(300);
    const acc = new MerkleAccumulator();
    expect(acc.root()).toEqual(rootOf([]));
    for (let n = 1; n <= 300; n++) {
      acc.push(all[n - 1]!);
      expect(acc.root()).toEqual(rootOf(all, 0, n));
    }
  });

  it("forged inclusion and consistency proofs are rejected (the immudb GO-2022-1117 lesson)", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 2, max: 64 }),
        fc.nat(),
        fc.nat(),
        fc.integer({ min: 0, max: 255 }),
        (n, mi, bi, flip) => {
          const all = leaves(n);
          const m = mi % n;
          const root = rootOf(all);
          const proof = inclusionProof(all, m);
          // Any changed byte in any proof element, a wrong index, a wrong size, or another leaf fails.
          if (proof.length > 0) {
            const forged = proof.map((p) => Buffer.from(p));
            const at = bi % forged.length;
            forged[at]![bi % 32]! ^= flip || 1;
            expect(verifyInclusion(m, n, all[m]!, forged, root)).toBe(false);
          }
          expect(verifyInclusion((m + 1) % n, n, all[m]!, proof, root)).toBe(false);
          // (A size alone binds nothing: the (size, root) pair comes from a signed checkpoint.)
          expect(verifyInclusion(m, n, all[m]!, proof, rootOf(all, 0, n - 1))).toBe(false);
          expect(verifyInclusion(m, n, leafHash(Buffer.from("forged")), proof, root)).toBe(false);
          const size1 = 1 + (bi % (n - 1));
          const cproof = consistencyProof(all, size1);
          const forgedC = cproof.map((p) => Buffer.from(p));
          forgedC[bi % forgedC.length]![flip % 32]! ^= 1;
          expect(verifyConsistency(size1, n, forgedC, rootOf(all, 0, size1), root)).toBe(false);
          expect(verifyConsistency(size1, n, cproof, rootOf(all, 0, size1), rootOf(all, 0, n - 1))).toBe(
            false,
          );
        },
      ),
      { numRuns: 300 },
    );
  });
});
