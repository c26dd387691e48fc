import { rm, truncate } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { SealIndex } from "../../src/evidence/store/seal-index.js";
import { FileLedger } from "../../src/evidence/ledger/file-ledger.js";
import { verifyPdfSignature } from "../../src/crypto/sign/pdf-signature.js";
import type { PromotionRecord } from "../../src/record/schema.js";
import { verifyCmsDetached } from "../../src/crypto/sign/cms.js";
import { verifyStore } from "../../src/evidence/verify/store.js";
import { verifyParts } from "../../src/app/store.js";
import { cloneModel, MATERIAL_CHAIN, workspace } from "../support/workflow.js";

describe("sealing a material change through the full chain on the real MLflow server", () => {
  it("waits on an out-of-order approval, seals once the chain completes, and never seals twice", async () => {
    const w = await workspace();
    // Version 2 of the copy is credit-risk v3: a new feature and a new model class.
    const name = await cloneModel(w.client, "credit-risk", ["1", "3"], "1");
    try {
      expect((await w.review(name, "2", "adds tenure_months")).chain).toEqual(MATERIAL_CHAIN.map(([r]) => r));
      const approve = async (role: string, email: string) =>
        expect(
          (
            await w.approve(
              name,
              "2",
              role,
              email,
              "approve",
              "--condition",
              `${role}: re-review after 180 days`,
            )
          ).err,
        ).toBe("");

      // `review` recorded the PDF it showed; a store reviewed before it did gets it from the
      // registry's tag on the sealer's next visit (checked: stored, this package's document ID).
      const reviewed = (await w.tags(name, "2"))["sealgate.package_pdf"]!;
      const pkgDigest = (await w.tags(name, "2"))["sealgate.package"]!;
      const indexDir = join(w.deps.store.root, "index");
      expect((await SealIndex.open(w.deps.store.root)).reviewPdf(pkgDigest)).toBe(reviewed);
      await rm(join(indexDir, "review-pdfs.jsonl"));

      // approve refuses a role out of sequence at once, naming the role the chain needs...
      const refused = await w.approve(name, "2", "ai-committee", "layla.haddad@example.org");
      expect(refused.code).toBe(1);
      expect(refused.err).toContain("out of order: ai-committee signed before data-governance had decided");
      expect(refused.err).toMatch(/next: waiting for data-governance since \d{4}-/);
      expect(Object.keys(await w.tags(name, "2")).filter((k) => k.startsWith("sealgate.approval."))).toEqual(
        [],
      );
      // ...and the sealer still leaves it out when it is written into the tags around approve.
      await w.plant(name, "2", "ai-committee", "layla.haddad@example.org");
      const early = await w.seal(name, "2");
      expect((await SealIndex.open(w.deps.store.root)).reviewPdf(pkgDigest)).toBe(reviewed);
      expect(early).toMatchObject({
        outcome: "waiting",
        state: "pending_review",
        nextRole: "data-governance",
      });
      expect((early as { ignored: string[] }).ignored.join(" ")).toContain(
        "out of order: ai-committee signed before data-governance",
      );

      for (const [role, email] of MATERIAL_CHAIN) await approve(role, email);
      const sealed = await w.seal(name, "2");
      expect(sealed).toMatchObject({ outcome: "sealed", decision: "approved" });
      const digest = (sealed as { record: string }).record;
      expect(await w.seal(name, "2")).toEqual({
        outcome: "already-sealed",
        record: digest,
        decision: "approved",
      });
      expect(w.deps.ledger.size).toBe(1);

      expect(await w.tags(name, "2")).toMatchObject({
        "sealgate.event": digest,
        "sealgate.state": "approved",
      });
      const store = w.deps.store;
      const record = JSON.parse(Buffer.from(await store.get(digest as never)).toString()) as PromotionRecord;
      expect(record.approvals.map((a) => a.role)).toEqual(MATERIAL_CHAIN.map(([r]) => r));
      expect(record.conditions).toHaveLength(4);
      expect(record.materiality.reasons.join(" ")).toContain("+tenure_months");
      // The policy that judged the cycle is stored under the digest the record names.
      expect(Buffer.from(await store.get(record.policy.digest as never)).toString()).toContain("tiers:");

      const seal = w.deps.index.get(record.package)!;
      await verifyCmsDetached(await store.get(seal.p7s as never), await store.get(digest as never), w.trust);
      expect(
        (await verifyPdfSignature(await store.get(seal.pdf as never), w.trust)).signer.subject,
      ).toContain("sealing");
      // A crash between the index write and the ledger append: the next pass appends the
      // record the index names, once, however often the version is revisited.
      await w.deps.ledger.close();
      await truncate(join(store.root, "ledger", "entries.log"), 0);
      w.deps.ledger = await FileLedger.open(join(store.root, "ledger"));
      for (let pass = 0; pass < 2; pass++)
        expect(await w.seal(name, "2")).toMatchObject({ outcome: "already-sealed", record: digest });
      expect(w.deps.ledger.size).toBe(1);

      await w.deps.ledger.checkpoint(w.deps.signer);
      expect((await verifyStore(await verifyParts(store.root), { trust: w.trust })).findings).toEqual([]);
    } finally {
      await w.close();
    }
  });
});
