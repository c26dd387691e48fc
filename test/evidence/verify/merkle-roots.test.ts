import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { leafHash, rootOf } from "../../../src/evidence/ledger/merkle.js";
import { merkleRoots } from "../../../src/evidence/verify/merkle-roots.js";

/*
 * The verifier's Merkle thread carries its own copy of the RFC 6962 computation (it runs as
 * evaluated JavaScript); it must agree with ledger/merkle.ts, which signs the checkpoints.
 */

const dir = await mkdtemp(join(tmpdir(), "sealgate-merkle-roots-"));

describe("merkleRoots on the verifier's second thread", () => {
  it("equals rootOf for every requested size, counting only whole lines within the byte limit", async () => {
    let file = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.uint8Array({ minLength: 0, maxLength: 40 }), { maxLength: 70 }),
        fc.uint8Array({ minLength: 0, maxLength: 20 }),
        fc.array(fc.nat(80), { maxLength: 6 }),
        fc.nat(),
        async (raw, tail, sizes, cut) => {
          // Lines may hold any byte but the newline; a tail without one is a torn last line.
          const lines = raw.map((l) => Buffer.from(l.map((b) => (b === 10 ? 32 : b))));
          const bytes = Buffer.concat([
            ...lines.map((l) => Buffer.concat([l, Buffer.from("\n")])),
            Buffer.from(tail.map((b) => (b === 10 ? 32 : b))),
          ]);
          const end = cut % (bytes.length + 1);
          const path = join(dir, `entries-${file++}.log`);
          await writeFile(path, bytes);
          const whole = bytes.subarray(0, end).toString("latin1").split("\n").length - 1;
          const leaves = lines.slice(0, whole).map((l) => leafHash(l));
          const r = await merkleRoots(path, end, sizes);
          expect(r.count).toBe(whole);
          for (const size of sizes) {
            if (size <= whole) expect(r.roots.get(size)).toEqual(rootOf(leaves, 0, size));
            else expect(r.roots.has(size)).toBe(false);
          }
        },
      ),
      { numRuns: 40 },
    );
  });

  it("fails with a typed error when the ledger cannot be read", async () => {
    await expect(merkleRoots(join(dir, "missing.log"), 10, [1])).rejects.toMatchObject({ code: "IO" });
  });
});
