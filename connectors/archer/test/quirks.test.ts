import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { ArcherSimulator } from "../simulator/server.js";
import { delivery, destination, file, startSim } from "./helpers.js";

let sim: ArcherSimulator;
beforeEach(async () => {
  sim = await startSim();
});
afterEach(async () => {
  await sim.close();
});

const count = (key: string) => sim.stats()[key] ?? 0;

describe("Archer quirks and faults the client must survive", () => {
  it("treats the identical-update 400 on a re-sent link as success after re-reading", async () => {
    const dest = destination(sim);
    const ref = await dest.create(delivery(1));
    // The link PUT is applied but its answer is lost; the retry changes nothing, so Archer says 400.
    sim.failOnce("PUT platformapi/core/content", "reset-after");
    const f = file("record.pdf", "%PDF-1.7");
    await dest.upload(ref, f);
    await dest.finish(ref);
    expect(count("PUT platformapi/core/content")).toBe(2);
    expect(sim.records()[0]?.files).toEqual([{ name: "record.pdf", size: f.bytes.length, sha256: f.sha256 }]);
    await dest.close();
  });

  it("notices an attachment Archer silently dropped although it answered IsSuccessful", async () => {
    const dest = destination(sim);
    const ref = await dest.create(delivery(2));
    // Archer ignores unknown attachment ids in an update and still reports success.
    sim.failOnce("PUT platformapi/core/content", () => sim.store.attachments.clear());
    await dest.upload(ref, file("record.json", "{}"));
    await expect(dest.finish(ref)).rejects.toMatchObject({
      code: "ARCHER_REJECTED",
      message: expect.stringMatching(/was not linked to record/),
    });
    expect(sim.records()[0]?.files).toEqual([]);
    await dest.close();
  });

  it("finds the record instead of creating a second one when the create answer is lost", async () => {
    const dest = destination(sim);
    await dest.prepare();
    sim.failOnce("POST platformapi/core/content", "reset-after");
    const ref = await dest.create(delivery(3));
    expect(sim.records().map((r) => r.id)).toEqual([ref.id]);
    expect(count("POST platformapi/core/content")).toBe(1);
    await dest.close();
  });

  it("creates again after a 5xx that Archer answered before acting", async () => {
    const dest = destination(sim);
    await dest.prepare();
    sim.failOnce("POST platformapi/core/content", 500);
    const ref = await dest.create(delivery(4));
    expect(sim.records().map((r) => r.id)).toEqual([ref.id]);
    expect(count("POST platformapi/core/content")).toBe(2);
    await dest.close();
  });

  it("honours Retry-After on 429, for reads and for the non-retried create", async () => {
    const sleeps: number[] = [];
    const dest = destination(sim, { sleeps });
    sim.setFaults({ retryAfterSeconds: 3 });
    sim.failOnce("GET contentapi/Promotion_Record", 429);
    await dest.prepare();
    sim.failOnce("POST platformapi/core/content", 429);
    await dest.create(delivery(5));
    expect(sleeps.filter((ms) => ms === 3000)).toHaveLength(2);
    expect(sim.records()).toHaveLength(1);
    expect(sim.stats()["faults.429"]).toBe(2);
    await dest.close();
  });

  it("retries reads through 5xx pages and connection resets", async () => {
    const dest = destination(sim);
    const ref = await dest.create(delivery(6));
    await dest.upload(ref, file("a.txt", "a"));
    await dest.finish(ref);
    sim.failOnce("GET platformapi/core/content/{id}", 500);
    sim.failOnce("GET platformapi/core/content/attachment/{id}", "reset-before");
    expect((await dest.listFiles(ref)).map((f) => f.name)).toEqual(["a.txt"]);
    expect(sim.stats()["faults.5xx"]).toBe(1);
    await dest.close();
  });

  it("pages metadata listings even when the server caps pages below $top", async () => {
    await sim.close();
    sim = await startSim({ maxPageSize: 7, fillerApplications: 40 });
    const dest = destination(sim, { config: { pageSize: 100 } });
    await dest.prepare(); // "Model Promotions" is the 43rd application: on page 7
    expect(count("POST platformapi/core/system/application")).toBe(8); // 7 pages and the empty one
    expect(count("POST platformapi/core/system/fielddefinition/level/{id}")).toBe(3);
    await dest.create(delivery(7));
    await dest.close();
  });

  it("reports a stale reference (unknown content id) instead of uploading into nothing", async () => {
    const dest = destination(sim);
    await expect(dest.listFiles({ id: "999999" })).rejects.toThrow(/999999 does not exist/);
    await dest.upload({ id: "999999" }, file("x", "x")); // stored, unlinked: an orphan at worst
    await expect(dest.finish({ id: "999999" })).rejects.toThrow(/999999 does not exist/);
    await dest.close();
  });
});
