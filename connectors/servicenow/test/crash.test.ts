import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ServiceNowSimulator } from "../simulator/server.js";
import { delivery, push, startSim, testDestination } from "./helpers.js";

/*
 * The pusher dies at a point spread over a whole run (token, metadata, find, create, each
 * upload), with the last request lost either before or after the instance processed it, and
 * a fresh destination (a restarted process) then delivers everything again.
 */

const RECORDS = 6;
const TRIALS = 24;

describe("a pusher killed at any request and restarted", () => {
  let sim: ServiceNowSimulator;
  beforeAll(async () => {
    sim = await startSim();
  });
  afterAll(() => sim.close());

  it(`ends with every record exactly once, byte-equal (${TRIALS} trials)`, async () => {
    // One clean run tells how many requests a run makes, so crash points cover all of it.
    const clean = testDestination(sim);
    const before = sim.stats().requests ?? 0;
    for (let i = 0; i < RECORDS; i++) await push(clean, delivery(i, "clean"));
    await clean.close();
    const perRun = (sim.stats().requests ?? 0) - before;
    expect(perRun).toBeGreaterThan(RECORDS * 8);

    for (let trial = 0; trial < TRIALS; trial++) {
      const seed = `crash-${trial}`;
      sim.blackoutAfter(Math.floor(((trial + 0.5) * perRun) / TRIALS));
      const dying = testDestination(sim, { config: { retries: 1 } });
      let died = false;
      try {
        for (let i = 0; i < RECORDS; i++) await push(dying, delivery(i, seed));
      } catch {
        died = true;
      }
      expect(died, `trial ${trial} should have crashed`).toBe(true);
      await dying.close();
      sim.blackoutAfter(null);

      const restarted = testDestination(sim);
      for (let i = 0; i < RECORDS; i++) await push(restarted, delivery(i, seed));
      await restarted.close();
    }

    const byCorrelation = new Map<string, number>();
    for (const r of sim.records())
      byCorrelation.set(r.correlation ?? "", (byCorrelation.get(r.correlation ?? "") ?? 0) + 1);
    expect(sim.records()).toHaveLength((TRIALS + 1) * RECORDS);
    for (let trial = 0; trial < TRIALS; trial++) {
      for (let i = 0; i < RECORDS; i++) {
        const d = delivery(i, `crash-${trial}`);
        expect(byCorrelation.get(d.correlation), `trial ${trial} record ${i}`).toBe(1);
        const remote = sim.records().find((r) => r.correlation === d.correlation);
        const names = (remote?.files ?? []).map((f) => `${f.name}:${f.sha256}`).sort();
        expect(names).toEqual(d.files.map((f) => `${f.name}:${f.sha256}`).sort());
      }
    }
  });
});
