import { describe, expect, it } from "vitest";
import type { VantaSimulatorHandle } from "../simulator/server.js";
import { delivery, push, simulatorPerTest } from "./helpers.js";

const vanta = simulatorPerTest();
const dest = vanta.dest;
let sim: VantaSimulatorHandle;

describe("Vanta destination under faults", () => {
  it("honours Retry-After on 429", async () => {
    sim = await vanta.start({ retryAfterSeconds: 4 });
    const { dest: d, clock } = dest();
    await d.prepare();
    sim.setFaults({ burst429: 3 });
    await push(d, delivery(1));
    expect(clock.waits.filter((w) => w === 4000)).toHaveLength(3);
    expect(sim.records()).toHaveLength(1);
  });

  it("without Retry-After, waits the configured fallback instead of hammering", async () => {
    sim = await vanta.start({}, { retryAfterHeader: false });
    const { dest: d, clock } = dest({ retryAfterFallbackMs: 4321 });
    await d.prepare();
    sim.setFaults({ burst429: 2 });
    await push(d, delivery(1));
    expect(clock.waits.filter((w) => w === 4321)).toHaveLength(2);
  });

  it("the fallback defaults to 61 s, as Vanta's public client does", async () => {
    sim = await vanta.start({ burst429: 1 }, { retryAfterHeader: false });
    const { dest: d, clock } = dest();
    await d.prepare();
    expect(clock.waits).toEqual([61_000]);
  });

  it("a 429 on a create is waited out, then the document is created once", async () => {
    sim = await vanta.start();
    const { dest: d } = dest();
    await d.prepare();
    sim.setFaults({ burst429: 1 });
    await d.create(delivery(1));
    expect(sim.records()).toHaveLength(1);
    expect(sim.stats()["429"]).toBe(1);
  });

  it("gives up with the HTTP status once retries are spent", async () => {
    sim = await vanta.start();
    const { dest: d } = dest({ retries: 2 });
    await d.prepare();
    sim.setFaults({ errorRate: 1 });
    await expect(d.create(delivery(1))).rejects.toMatchObject({ code: "HTTP_STATUS" });
    sim.setFaults({ errorRate: 0, resetRate: 1 });
    await expect(d.find(delivery(1).correlation)).rejects.toMatchObject({ code: "HTTP_CONNECTION" });
  });

  it("survives 5xx, resets, slow uploads and latency without duplicates", async () => {
    sim = await vanta.start({ errorRate: 0.3, resetRate: 0.15, slowUploadMs: 20, latencyMs: 5 });
    const { dest: d } = dest({ retries: 12 });
    const recs = Array.from({ length: 10 }, (_, i) => delivery(i));
    for (const r of recs) await push(d, r);
    const remote = sim.records();
    expect(remote.map((r) => r.correlation).sort()).toEqual(recs.map((r) => r.correlation).sort());
    for (const r of remote) expect(r.files).toHaveLength(3);
    expect(sim.stats()["5xx"]).toBeGreaterThan(0);
  });
});
