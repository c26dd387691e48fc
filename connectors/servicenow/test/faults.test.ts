import { afterEach, describe, expect, it } from "vitest";
import { describeError } from "../../../src/core/errors.js";
import type { ServiceNowDestination } from "../client.js";
import type { ServiceNowSimulator } from "../simulator/server.js";
import { capturingLogger, delivery, push, startSim, testDestination } from "./helpers.js";

let sim: ServiceNowSimulator;
afterEach(() => sim?.close());

/** A destination whose waits are recorded instead of slept. */
function recording(s: ServiceNowSimulator) {
  const waits: number[] = [];
  const dest = testDestination(s, {
    http: {
      backoff: { baseMs: 100, maxMs: 1000 },
      sleep: async (ms) => {
        waits.push(ms);
      },
    },
  });
  return { dest, waits };
}

describe("transient faults", () => {
  it("waits Retry-After on 429 bursts, then succeeds", async () => {
    sim = await startSim({ faults: { retryAfterSeconds: 3 } });
    const { dest, waits } = recording(sim);
    await dest.prepare();
    sim.setFaults({ burst429: 2 });
    await push(dest, delivery(1));
    expect(waits.slice(0, 2)).toEqual([3000, 3000]);
    expect(sim.stats()["429"]).toBe(2);
    expect(sim.records()).toHaveLength(1);
    await dest.close();
  });

  it("a 429 on a create is waited out and the create is not duplicated", async () => {
    sim = await startSim({ faults: { retryAfterSeconds: 7 } });
    const { dest, waits } = recording(sim);
    await dest.prepare();
    sim.failNext("429", "POST", "/api/now/table/");
    await dest.create(delivery(2));
    expect(waits).toEqual([7000]);
    expect(sim.records()).toHaveLength(1);
    await dest.close();
  });

  it.each(["reset-before", "reset-after", "503"] as const)(
    "a create hit by %s lands exactly once",
    async (fault) => {
      sim = await startSim();
      const dest = testDestination(sim);
      await dest.prepare();
      const d = delivery(3);
      sim.failNext(fault, "POST", "/api/now/table/");
      const ref = await dest.create(d);
      expect(sim.records().map((r) => r.id)).toEqual([ref.id]);
      expect(sim.stats()["POST /api/now/table/sn_grc_ai_gov_ai_system_task"]).toBe(
        fault === "reset-after" ? 1 : 2,
      );
      await dest.close();
    },
  );

  it.each(["reset-before", "reset-after", "503"] as const)(
    "an upload hit by %s lands exactly once",
    async (fault) => {
      sim = await startSim();
      const dest = testDestination(sim);
      const d = delivery(4);
      const ref = await dest.create(d);
      sim.failNext(fault, "POST", "/api/now/attachment/file");
      await dest.upload(ref, d.files[4]!);
      const files = sim.records()[0]?.files ?? [];
      expect(files).toEqual([
        { name: "record.pdf", size: d.files[4]!.bytes.length, sha256: d.files[4]!.sha256 },
      ]);
      await dest.close();
    },
  );

  it("an upload that lands but answers too slowly is found, not uploaded twice", async () => {
    sim = await startSim();
    const dest = testDestination(sim, { config: { timeoutMs: 300 } });
    const d = delivery(6);
    const ref = await dest.create(d);
    sim.setFaults({ slowUploadMs: 1500 });
    await dest.upload(ref, d.files[0]!);
    sim.setFaults({ slowUploadMs: 0 });
    expect(sim.stats()["POST /api/now/attachment/file"]).toBe(1);
    expect(sim.records()[0]?.files.map((f) => f.name)).toEqual(["evidence.json"]);
    await dest.close();
  });

  it("reads survive resets and 5xx by retrying", async () => {
    sim = await startSim();
    const dest = testDestination(sim);
    await dest.prepare();
    sim.failNext("reset-before", "GET", "/api/now/table/");
    sim.failNext("503", "GET", "/api/now/table/");
    expect(await dest.find(delivery(5).correlation)).toBeNull();
    expect(sim.stats().resets).toBe(1);
    await dest.close();
  });

  it("gives up after the configured retries with an error naming status and URL", async () => {
    sim = await startSim({ faults: { errorRate: 1 } });
    const dest = testDestination(sim, { config: { retries: 2 } });
    const err = await dest.prepare().catch((e: unknown) => e);
    expect(describeError(err)).toMatch(/answered 503: Service Unavailable/);
    expect(sim.stats()["5xx"]).toBe(3);
    await dest.close();
  });
});

/** The engine's loop in miniature: on any failure, start the record over from find. */
async function deliverWithRestarts(dest: ServiceNowDestination, i: number) {
  for (let attempt = 1; ; attempt++) {
    try {
      return await push(dest, delivery(i, "bulk"));
    } catch (err) {
      if (attempt >= 10) throw err;
    }
  }
}

describe("200 records through 10% 5xx, 429 bursts, resets and a token revocation", () => {
  it("ends with each record exactly once and every file byte-equal", async () => {
    sim = await startSim({ faults: { errorRate: 0.1, resetRate: 0.05, retryAfterSeconds: 1 } });
    const { logger, lines } = capturingLogger();
    const dest = testDestination(sim, { logger });
    await dest.prepare();
    const queue = Array.from({ length: 200 }, (_, i) => i);
    let done = 0;
    const worker = async () => {
      for (let i = queue.shift(); i !== undefined; i = queue.shift()) {
        await deliverWithRestarts(dest, i);
        done++;
        if (done === 60) sim.revokeTokens();
        if (done % 40 === 0) sim.setFaults({ burst429: 3 });
      }
    };
    await Promise.all(Array.from({ length: 6 }, worker));

    const records = sim.records();
    expect(records).toHaveLength(200);
    const byCorrelation = new Map(records.map((r) => [r.correlation, r]));
    expect(byCorrelation.size).toBe(200);
    for (let i = 0; i < 200; i++) {
      const d = delivery(i, "bulk");
      const remote = byCorrelation.get(d.correlation);
      expect(remote, `record ${i}`).toBeDefined();
      const got = [...(remote?.files ?? [])].sort((a, b) => a.name.localeCompare(b.name));
      const want = d.files
        .map((f) => ({ name: f.name, size: f.bytes.length, sha256: f.sha256 }))
        .sort((a, b) => a.name.localeCompare(b.name));
      expect(got, `files of record ${i}`).toEqual(want);
    }
    const stats = sim.stats();
    expect(stats["5xx"]).toBeGreaterThan(0);
    expect(stats.resets).toBeGreaterThan(0);
    expect(stats["429"]).toBeGreaterThan(0);
    expect(stats.revocations).toBe(1);
    expect(stats["401"]).toBeGreaterThan(0);
    const logs = lines.join("\n");
    expect(logs).toContain("retrying HTTP request");
    for (const s of sim.secrets()) expect(logs).not.toContain(s);
    await dest.close();
  });
});
