import { describe, expect, it } from "vitest";
import type { Delivery } from "../../../src/delivery/destination/destination.js";
import { delivery, leakedSecrets, push, startSim, testDestination } from "./helpers.js";

/*
 * The bar for every destination: 200 sealed records through the simulator with 10%
 * 5xx, 429 bursts, connection resets and one token revocation end with each record present
 * exactly once, every file byte-equal (by sha256). A failed delivery is retried whole, as the
 * engine does.
 */
describe("200 records through the Vanta simulator under faults", () => {
  it("lands each record exactly once with every file intact", async () => {
    const sim = await startSim({ errorRate: 0.1, resetRate: 0.03, retryAfterSeconds: 1 });
    const { dest, logs } = testDestination(sim);
    try {
      const recs = Array.from({ length: 200 }, (_, i) => delivery(i));
      const queue = [...recs];
      let done = 0;
      let failures = 0;
      const worker = async () => {
        for (let r = queue.shift(); r; r = queue.shift()) {
          await deliverWithRetries(r);
          done++;
          if (done % 40 === 0) sim.setFaults({ burst429: 5 });
          if (done === 100) sim.revokeTokens();
        }
      };
      const deliverWithRetries = async (r: Delivery) => {
        for (let attempt = 0; ; attempt++) {
          try {
            return await push(dest, r);
          } catch (err) {
            failures++;
            if (attempt >= 5) throw err;
          }
        }
      };
      await Promise.all(Array.from({ length: 4 }, worker));

      const remote = sim.records();
      expect(remote).toHaveLength(200);
      const byCorrelation = new Map(remote.map((r) => [r.correlation, r]));
      expect(byCorrelation.size).toBe(200);
      for (const r of recs) {
        const got = byCorrelation.get(r.correlation);
        expect(got?.files.map((f) => [f.name, f.size, f.sha256])).toEqual(
          r.files.map((f) => [f.name, f.bytes.length, f.sha256]),
        );
        expect(got?.fields.submitted).toBe(true);
      }
      const stats = sim.stats();
      expect(stats["5xx"]).toBeGreaterThan(0);
      expect(stats["429"]).toBeGreaterThanOrEqual(20);
      expect((stats["reset-before"] ?? 0) + (stats["reset-after"] ?? 0)).toBeGreaterThan(0);
      expect(stats.unauthorized).toBeGreaterThanOrEqual(1);
      expect(stats.tokensMinted).toBeLessThanOrEqual(5);
      expect(leakedSecrets(sim, logs.lines)).toEqual([]);
      expect(failures).toBeLessThan(20);
    } finally {
      await dest.close();
      await sim.close();
    }
  });
});
