import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { buildEvidence } from "../../src/deliver/evidence.js";
import { readDeliveryView } from "../../src/deliver/ledger-view.js";
import { verifyEvidence } from "../../src/deliver/verify-evidence.js";
import { SealIndex } from "../../src/governance/seal-index.js";
import { FsObjectStore } from "../../src/store/fs-store.js";
import { sealedRecords, sealMore } from "../support/sealed-records.js";

describe("evidence.json", async () => {
  const s = await sealedRecords(5);
  const store = new FsObjectStore(s.root);
  const index = await SealIndex.open(s.root);

  const build = async (seq: number) => {
    const view = await readDeliveryView(s.root);
    return buildEvidence({
      store,
      view,
      seq,
      seal: index.byRecord(view.entries[seq]!.record)!,
      signer: s.signer,
    });
  };

  it("carries the record, its JWS, the approvals and an inclusion proof that all verify", async () => {
    const bytes = (await build(3))!;
    const e = await verifyEvidence(bytes, s.trust);
    expect(e.recordDigest).toBe(s.records[3]);
    expect(e.ledger).toMatchObject({ seq: 3, treeSize: 5 });
    expect(e.approvals).toHaveLength(1);
    expect(e.checkpoint.note).toContain("\n5\n");
  });

  it("rejects every single-byte change anywhere in the file", async () => {
    const bytes = Buffer.from((await build(1))!);
    await fc.assert(
      fc.asyncProperty(fc.nat(bytes.length - 1), fc.integer({ min: 1, max: 255 }), async (at, x) => {
        const bad = Buffer.from(bytes);
        bad[at] = bad[at]! ^ x;
        await expect(verifyEvidence(bad, s.trust)).rejects.toThrow();
      }),
      { numRuns: 60 },
    );
  });

  it("waits for a signed checkpoint that covers the record instead of building a proof-less file", async () => {
    const [later] = await sealMore(s, 5, 1);
    const view = await readDeliveryView(s.root);
    const seal = (await SealIndex.open(s.root)).byRecord(later!)!;
    expect(await buildEvidence({ store, view, seq: 5, seal, signer: s.signer })).toBeNull();
  });
});
