import { randomBytes } from "node:crypto";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { verifyBundle } from "../../src/bundle/verify.js";
import { proofSides } from "../../src/bundle/verify-md.js";
import { readZip } from "../../src/bundle/zip-read.js";
import { inclusionProof, leafHash, nodeHash, rootOf } from "../../src/evidence/ledger/merkle.js";
import type { KeySpec } from "../../src/crypto/pki/keys.js";
import { exportOf, sealedStore } from "./fixture.js";
import { runVerifyMd } from "./run-verify-md.js";

describe("the by-hand inclusion steps VERIFY.md prints", () => {
  it("lead from the leaf to the root for every entry of trees of any size", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 300 }), fc.nat(), (size, i) => {
        const index = i % size;
        const lines = Array.from({ length: size }, () => randomBytes(8));
        const leaves = lines.map(leafHash);
        const proof = inclusionProof(leaves, index);
        const sides = proofSides(index, size, proof.length);
        let r = leafHash(lines[index]!);
        proof.forEach((h, k) => {
          r = sides[k] === "left" ? nodeHash(h, r) : nodeHash(r, h);
        });
        expect(r.equals(rootOf(leaves))).toBe(true);
      }),
      { numRuns: 300 },
    );
  });
});

// The checkpoint and CMS commands differ by key type: run them for RSA-PSS and P-384 too.
describe.each([
  ["rsa-2048", "RSA-PSS"],
  ["ec-p384", "ECDSA P-384"],
] as [KeySpec, string][])("a bundle sealed with %s keys", (spec, keyType) => {
  it("verifies with sealgate and with VERIFY.md's commands", async () => {
    const s = await sealedStore(spec);
    try {
      const zip = await exportOf(s, s.events.approved);
      const report = await verifyBundle(zip, s.trust);
      expect(report.claims.filter((c) => !c.ok)).toEqual([]);
      const files = await readZip(zip);
      expect(files.get("VERIFY.md")!.toString()).toContain(`The key is ${keyType}`);
      const r = await runVerifyMd(files, s.pki.trust.anchors);
      expect(r.out).not.toContain("FAILED");
      expect(r.code).toBe(0);
      expect(r.out).toContain("Verified OK");
    } finally {
      await s.ledger.close();
    }
  });
});
