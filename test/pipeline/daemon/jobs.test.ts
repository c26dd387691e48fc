import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it, vi } from "vitest";
import type { App } from "../../../src/app/open.js";
import { FileLedgerReader } from "../../../src/evidence/ledger/file-ledger.js";
import { FsObjectStore } from "../../../src/evidence/store/fs-store.js";
import { pushJob } from "../../../src/pipeline/daemon/jobs.js";
import { Lane } from "../../../src/pipeline/daemon/lane.js";
import { DaemonMetrics } from "../../../src/pipeline/daemon/metrics.js";
import { createLogger } from "../../../src/core/log.js";
import { compileMapping } from "../../../src/delivery/mapping/compile.js";
import { FileDestination } from "../../support/file-destination.mjs";
import { sealedRecords } from "../../support/sealed-records.js";
import { metric } from "./harness.js";
import { TEST_MAPPING, TEST_TARGET } from "../../support/test-mapping.mjs";

// The outbox status can be made to fail after a push pass, as an unreadable store would.
const status = vi.hoisted(() => ({ fail: false }));
vi.mock("../../../src/delivery/outbox/report.js", async (real) => {
  const mod = await real<typeof import("../../../src/delivery/outbox/report.js")>();
  return {
    ...mod,
    outboxStatus: (...args: Parameters<typeof mod.outboxStatus>) =>
      status.fail ? Promise.reject(new Error("outbox unreadable")) : mod.outboxStatus(...args),
  };
});

async function setup() {
  const s = await sealedRecords(3);
  const remote = await mkdtemp(join(tmpdir(), "sealgate-remote-"));
  const target = {
    name: "files",
    destination: new FileDestination("files", remote),
    mapping: compileMapping(TEST_MAPPING, "test mapping", { destination: "files", target: TEST_TARGET }),
    queue: { concurrency: 4, perMinute: 100_000 },
    maxAttempts: 5,
  };
  // pushJob reads these fields of the app only.
  const app = {
    storeDir: s.root,
    store: new FsObjectStore(s.root),
    ledger: FileLedgerReader.ofStore(s.root),
    targets: [target],
    signer: s.signer,
  } as unknown as App;
  const metrics = new DaemonMetrics();
  return { ctx: { app, lane: new Lane(), metrics }, metrics };
}

/*
 * The push job as Prometheus sees it while it runs: a scrape must never show records delivered
 * to a destination without that destination's backlog gauge (a dashboard alerting on the gauge
 * would read a missing series as "no data").
 */

describe("the push job's metrics", () => {
  it("are never seen half-updated by a scrape during the job", async () => {
    const { ctx, metrics } = await setup();

    const scrapes: string[] = [];
    let running = true;
    const scraper = (async () => {
      while (running) {
        scrapes.push(await metrics.registry.metrics());
        await new Promise((r) => setImmediate(r));
      }
    })();
    await pushJob(ctx, createLogger({ level: "silent" }));
    running = false;
    await scraper;
    scrapes.push(await metrics.registry.metrics());

    const delivered = scrapes.filter(
      (t) => metric(t, "sealgate_deliveries", { destination: "files", state: "delivered" }) === 3,
    );
    expect(delivered.length).toBeGreaterThan(0);
    for (const t of delivered)
      expect(metric(t, "sealgate_oldest_pending_delivery_seconds", { destination: "files" })).toBe(0);
    // The job ran under the scraper: some scrapes saw neither update yet.
    expect(scrapes.length).toBeGreaterThan(delivered.length);
  });

  it("count the pass's deliveries even when the outbox status cannot be read afterwards", async () => {
    const { ctx, metrics } = await setup();
    status.fail = true;
    try {
      await expect(pushJob(ctx, createLogger({ level: "silent" }))).rejects.toThrow("outbox unreadable");
    } finally {
      status.fail = false;
    }
    const text = await metrics.registry.metrics();
    expect(metric(text, "sealgate_deliveries_total", { destination: "files", result: "delivered" })).toBe(3);
  });
});
