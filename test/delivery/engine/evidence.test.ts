import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { buildEvidence } from "../../../src/delivery/engine/evidence.js";
import { readDeliveryView } from "../../../src/evidence/ledger/delivery-view.js";
import { FileLedgerReader } from "../../../src/evidence/ledger/file-ledger.js";
import { verifyEvidence } from "../../../src/delivery/engine/verify-evidence.js";
import { SealIndex } from "../../../src/evidence/store/seal-index.js";
import { FsObjectStore } from "../../../src/evidence/store/fs-store.js";
import { respell } from "../../support/respell.js";
import { sealedRecords, sealMore } from "../../support/sealed-records.js";

describe("evidence.json", async () => {
  const s = await sealedRecords(5);
  const store = new FsObjectStore(s.root);
  const index = await SealIndex.open(s.root);

  const build = async (seq: number) => {
    const view = await readDeliveryView(FileLedgerReader.ofStore(s.root));
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

  it("rejects each signature, certificate and proof hash written another way for the same bytes", async () => {
    const bytes = (await build(1))!;
    const text = Buffer.from(bytes).toString("utf8");
    const e = JSON.parse(text) as {
      evidence: {
        recordJws: { signature: string };
        approvals: string[];
        ledger: { inclusionProof: string[] };
        checkpoint: { chain: string[]; note: string };
      };
      signature: { signature: string };
    };
    const noteSignature = / ([A-Za-z0-9+/]+=*)\n$/.exec(e.evidence.checkpoint.note)![1]!;
    // [what, as written, alphabet]; a certificate or DER signature whose length is a multiple of
    // three has no unused bits, so no other spelling (the fixed-size ones below always do).
    const fields: [string, string, "base64" | "base64url"][] = [
      ["signature", e.signature.signature, "base64url"],
      ["record JWS", e.evidence.recordJws.signature, "base64url"],
      ["approval", e.evidence.approvals[0]!.split(".")[2]!, "base64url"],
      ["inclusion proof hash", e.evidence.ledger.inclusionProof[0]!, "base64"],
      ["checkpoint certificate", e.evidence.checkpoint.chain[0]!, "base64"],
      ["checkpoint signature", noteSignature, "base64"],
    ];
    const tried: string[] = [];
    for (const [what, original, alphabet] of fields) {
      if ((original.replace(/=+$/, "").length * 6) % 8 === 0) continue;
      expect(text.split(original), what).toHaveLength(2); // written in one place only
      const changed = Buffer.from(text.replace(original, respell(original, alphabet)));
      await expect(verifyEvidence(changed, s.trust), what).rejects.toThrow();
      tried.push(what);
    }
    expect(tried).toEqual(expect.arrayContaining(fields.slice(0, 4).map(([what]) => what)));
  });

  it("waits for a signed checkpoint that covers the record instead of building a proof-less file", async () => {
    const [later] = await sealMore(s, 5, 1);
    const view = await readDeliveryView(FileLedgerReader.ofStore(s.root));
    const seal = (await SealIndex.open(s.root)).byRecord(later!)!;
    expect(await buildEvidence({ store, view, seq: 5, seal, signer: s.signer })).toBeNull();
  });
});
