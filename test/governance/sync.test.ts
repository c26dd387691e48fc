import { join } from "node:path";
import { pino } from "pino";
import { describe, expect, it } from "vitest";
import { openApp } from "../../src/app/open.js";
import { SealIndex } from "../../src/evidence/store/seal-index.js";
import { TAGS } from "../../src/governance/cycle/tags.js";
import { parseEntry, readLines } from "../../src/evidence/ledger/ledger.js";
import { syncOnce } from "../../src/pipeline/sync/sync.js";
import { verifyStore } from "../../src/evidence/verify/store.js";
import { verifyParts } from "../../src/app/store.js";
import { cloneModel, workspace } from "../support/workflow.js";

/*
 * A sync pass seals several versions at once (sync.concurrency): on the real MLflow server,
 * four completed cycles sealed in one pass, one of them broken. Each is sealed once, the ledger
 * chains and verifies, the report keeps the order of the work, and a repeat pass seals nothing.
 */

describe("a sync pass sealing versions concurrently", () => {
  it("seals each completed cycle once, isolates a broken one, and reports in work order", async () => {
    const w = await workspace({ extraConfig: "sync: { concurrency: 4 }\n" });
    await w.deps.ledger.close(); // the app takes the ledger's single-writer lock itself
    const name = await cloneModel(w.client, "credit-risk", ["1", "2", "2", "2", "2"], "1");
    const versions = ["2", "3", "4", "5"];
    for (const v of versions) {
      await w.review(name, v);
      expect((await w.approve(name, v, "on-call", "ada.lovelace@example.org")).err).toBe("");
    }
    // Version 4's package tag names an object the store does not hold: sealing it must fail alone.
    await w.client.setModelVersionTag(name, "4", TAGS.package, `sha256:${"ab".repeat(32)}`);

    const app = await openApp(w.cfg, { logger: pino({ level: "silent" }) });
    try {
      // Duplicates (a webhook burst) are sealed once, not raced against each other.
      const only = ["2", "3", "2", "4", "5", "3", "5"].map((version) => ({ model: name, version }));
      const progress: number[] = [];
      const first = await syncOnce(app, { only, push: false, onVersion: (done) => progress.push(done) });
      expect(first.changed).toBe(4);
      expect(progress).toEqual([1, 2, 3, 4]);
      expect(first.outcomes.map((o) => [o.version, o.outcome])).toEqual([
        ["2", "sealed"],
        ["3", "sealed"],
        ["4", "error"],
        ["5", "sealed"],
      ]);
      expect(first.outcomes[2]!.detail).toMatch(/OBJECT_MISSING|not in the store|missing/i);
      expect(first.sealed).toBe(3);
      // Each review and approval was appended as it happened (8 events), then the 3 records.
      expect(first.checkpoint).toBe(11);

      const sealed = first.outcomes.filter((o) => o.outcome === "sealed").map((o) => o.detail);
      expect(new Set(sealed).size).toBe(3);
      const ledgered: string[] = [];
      for await (const { line } of readLines(join(w.dir, "store", "ledger", "entries.log"))) {
        const entry = parseEntry(line)!;
        if (entry.kind === "record") ledgered.push(entry.object);
      }
      expect(ledgered.sort()).toEqual([...sealed].sort());
      const index = await SealIndex.open(join(w.dir, "store"));
      expect(index.records().sort()).toEqual([...sealed].sort());
      for (const o of first.outcomes.filter((x) => x.outcome === "sealed"))
        expect((await w.tags(name, o.version))[TAGS.event]).toBe(o.detail);
      const report = await verifyStore(await verifyParts(join(w.dir, "store")), { trust: w.trust });
      expect(report.findings).toEqual([]);
      expect(report.entries).toBe(11);

      const again = await syncOnce(app, { only, push: false });
      expect(again.sealed).toBe(0);
      expect(again.outcomes.map((o) => [o.version, o.outcome, o.detail])).toEqual(
        first.outcomes.map((o) => [
          o.version,
          o.outcome === "sealed" ? "already-sealed" : o.outcome,
          o.detail,
        ]),
      );
    } finally {
      await app.close();
      await w.client.close();
    }
  });
});
