import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { TAGS } from "../../src/governance/cycle/tags.js";
import { SealIndex } from "../../src/evidence/store/seal-index.js";
import { loadPolicy } from "../../src/policy/schema.js";
import { cloneModel, registerVersion, workspace } from "../support/workflow.js";

/*
 * Issue 21 item 9: the discipline applies from the policy's effectiveFrom on. A version the
 * registry created earlier is pre_discipline for good, however complete its approvals look
 * later; only versions registered after that instant can be sealed as approved.
 */

const ADA = "ada.lovelace@example.org";

describe("no backfill, on the real MLflow server", () => {
  it("never seals a version registered before effectiveFrom, even once fully approved", async () => {
    const w = await workspace();
    try {
      const name = await cloneModel(w.client, "credit-risk", ["1", "2"], "1");
      const before = await w.client.modelVersion(name, "2");
      // The discipline starts after version 2 was registered (MLflow's own creation time).
      const cut = new Date(Number(before.creation_timestamp) + 1);
      const policyPath = join(w.dir, "policy.yaml");
      const text = await readFile(policyPath, "utf8");
      await writeFile(
        policyPath,
        text.replace(/^effectiveFrom: .*$/m, `effectiveFrom: "${cut.toISOString()}"`),
      );
      w.deps.policy = await loadPolicy(policyPath);
      while (Date.now() <= cut.getTime()) await new Promise((r) => setTimeout(r, 2));

      // Everything a sealed approval needs is there: a package and the chain's one approval.
      expect((await w.review(name, "2")).chain).toEqual(["on-call"]);
      expect((await w.approve(name, "2", "on-call", ADA)).err).toBe("");
      expect(await w.seal(name, "2")).toEqual({ outcome: "pre-discipline" });
      expect((await w.tags(name, "2"))[TAGS.state]).toBe("pre_discipline");
      // Asking again changes nothing: no ledger entry, no seal, no record.
      expect(await w.seal(name, "2")).toEqual({ outcome: "pre-discipline" });
      expect(w.deps.ledger.size).toBe(0);
      expect((await SealIndex.open(w.deps.store.root)).records()).toEqual([]);

      // The same model files registered again, after effectiveFrom, go through the discipline.
      await registerVersion(w.client, name, before);
      const after = await w.client.modelVersion(name, "3");
      expect(Number(after.creation_timestamp)).toBeGreaterThanOrEqual(cut.getTime());
      await w.review(name, "3");
      expect((await w.approve(name, "3", "on-call", ADA)).err).toBe("");
      expect(await w.seal(name, "3")).toMatchObject({ outcome: "sealed", decision: "approved" });
      expect(w.deps.ledger.size).toBe(1);
      expect((await w.tags(name, "2"))[TAGS.state]).toBe("pre_discipline");
    } finally {
      await w.close();
    }
  });
});
