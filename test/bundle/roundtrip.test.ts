import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { verifyBundle } from "../../src/bundle/verify.js";
import { readZip } from "../../src/bundle/zip-read.js";
import { exportOf, sealedStore, type SealedStore } from "./fixture.js";

let s: SealedStore;
beforeAll(async () => {
  s = await sealedStore();
});
afterAll(async () => {
  await s?.ledger.close();
});

describe("export and verify a bundle", () => {
  it("exports the approved cycle with its rejected predecessor, and every claim verifies", async () => {
    const zip = await exportOf(s, s.events.approved);
    const report = await verifyBundle(zip, s.trust);
    const failed = report.claims.filter((c) => !c.ok);
    expect(failed).toEqual([]);
    expect(report.ok).toBe(true);
    expect(report.claims.map((c) => c.id)).toEqual(
      expect.arrayContaining(["manifest", "cycle-1.order", "cycle-2.order", "history", "instructions"]),
    );
    const files = await readZip(zip);
    expect([...files.keys()].filter((p) => p.startsWith("records/")).sort()).toContain(
      "records/1/record.json",
    );
    const index = JSON.parse(files.get("bundle.json")!.toString()) as { cycles: { reviewPdf?: string }[] };
    expect(index.cycles.map((c) => files.has(`objects/${c.reviewPdf?.slice(7)}`))).toEqual([true, true]);
  });

  it("exports the same event to identical bytes", async () => {
    const a = await exportOf(s, s.events.approved);
    const b = await exportOf(s, s.events.approved);
    expect(a.equals(b)).toBe(true);
  });
});
