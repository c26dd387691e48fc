import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Delivery } from "../../../src/delivery/destination/destination.js";
import { describeError } from "../../../src/core/errors.js";
import type { ArcherSimulator } from "../simulator/server.js";
import { captureLogger, delivery, destination, file, push, startSim } from "./helpers.js";

/*
 * The "done when" for Archer, driven by a plain worker loop (the delivery engine and
 * the shared kit run the same scenario later): 200 records through 10% 5xx, connection resets
 * (half of them after Archer acted), 429 bursts and one session revocation.
 */

const NAMES = ["evidence.json", "record.json", "record.jws", "record.p7s", "record.pdf"];
let sim: ArcherSimulator;
beforeAll(async () => {
  sim = await startSim({
    faults: { errorRate: 0.1, resetRate: 0.03, retryAfterSeconds: 1, latencyMs: 2, slowUploadMs: 3 },
  });
});
afterAll(async () => {
  await sim.close();
});

describe("200 sealed records into a faulty Archer", () => {
  it("ends with each record exactly once and every file byte-equal", async () => {
    const { logger, lines } = captureLogger();
    const dest = destination(sim, { logger });
    const deliveries: Delivery[] = Array.from({ length: 200 }, (_, i) =>
      delivery(
        i,
        NAMES.map((name) => file(name, randomBytes(64 + ((i * 977 + name.length * 131) % 20_000)))),
      ),
    );
    const errors: string[] = [];
    const attempt = async <T>(fn: () => Promise<T>): Promise<T> => {
      for (let n = 1; ; n++) {
        try {
          return await fn();
        } catch (err) {
          errors.push(describeError(err));
          if (n >= 10) throw err; // the engine would park the delivery; here it fails the test
        }
      }
    };
    await attempt(() => dest.prepare());
    let next = 0;
    const worker = async () => {
      while (next < deliveries.length) {
        const i = next++;
        if (i === 60 || i === 140) sim.setFaults({ burst429: 6 });
        if (i === 100) sim.revokeTokens();
        await attempt(() => push(dest, deliveries[i] as Delivery));
      }
    };
    await Promise.all(Array.from({ length: 4 }, worker));
    await dest.close();

    const remote = new Map(sim.records().map((r) => [r.correlation, r]));
    expect(sim.records()).toHaveLength(200);
    for (const d of deliveries) {
      const r = remote.get(d.correlation);
      expect(r?.files.map((f) => [f.name, f.sha256]).sort()).toEqual(
        d.files.map((f) => [f.name, f.sha256]).sort(),
      );
    }
    const stats = sim.stats();
    expect(stats["faults.5xx"]).toBeGreaterThan(50);
    expect(stats["faults.resets"]).toBeGreaterThan(10);
    expect(stats["faults.429"]).toBe(12);
    expect(stats["POST platformapi/core/security/login"]).toBeGreaterThanOrEqual(2);
    const seen = [...lines, ...errors].join("\n");
    for (const secret of sim.secrets()) expect(seen).not.toContain(secret);
  });
});
