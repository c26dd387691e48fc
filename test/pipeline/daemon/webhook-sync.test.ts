import { describe, expect, it } from "vitest";
import type { VersionChangedEvent } from "../../../src/source/registry-source.js";
import { type Version, WebhookSync } from "../../../src/pipeline/daemon/webhook-sync.js";
import { createLogger } from "../../../src/core/log.js";

/*
 * From verified webhook events to syncs: a burst of deliveries for one approval becomes one
 * sync per batch, unwatched models and version-less events are left to the sync job, and a
 * store that failed start-up verification is never synced into.
 */

const logger = createLogger({ level: "silent" });
/** Let every pending promise callback run. */
const settle = async () => {
  for (let i = 0; i < 10; i++) await new Promise((r) => setImmediate(r));
};
const event = (model: string, version: string | null): VersionChangedEvent => ({
  model,
  version,
  origin: "webhook",
  changes: [{ kind: "tag", key: "sealgate.approval", before: null, after: "x" }],
  observedAt: new Date().toISOString(),
});

function recorder() {
  const calls: Version[][] = [];
  let release!: () => void;
  let gate = new Promise<void>((r) => (release = r));
  return {
    calls,
    sync: async (v: Version[]) => {
      calls.push(v);
      await gate;
    },
    release: () => {
      release();
      gate = Promise.resolve();
    },
  };
}

describe("webhook sync", () => {
  it("syncs the first event at once and coalesces the burst that arrives meanwhile into one pass", async () => {
    const r = recorder();
    const w = new WebhookSync((m) => m.startsWith("credit-"), r.sync, Promise.resolve(true), logger);
    w.accept(event("credit-risk", "2"));
    await settle();
    expect(r.calls).toEqual([[{ model: "credit-risk", version: "2" }]]);
    for (const v of ["3", "3", "4", "3"]) w.accept(event("credit-risk", v));
    await settle();
    expect(r.calls).toHaveLength(1);
    r.release();
    await settle();
    expect(r.calls).toEqual([
      [{ model: "credit-risk", version: "2" }],
      [
        { model: "credit-risk", version: "3" },
        { model: "credit-risk", version: "4" },
      ],
    ]);
  });

  it("leaves unwatched models and events naming no version to the sync job", async () => {
    const r = recorder();
    r.release();
    const w = new WebhookSync((m) => m.startsWith("credit-"), r.sync, Promise.resolve(true), logger);
    w.accept(event("fraud-model", "1"));
    w.accept(event("credit-risk", null));
    await settle();
    expect(r.calls).toEqual([]);
  });

  it("never syncs into a store that failed start-up verification, even for events queued before it ended", async () => {
    const r = recorder();
    r.release();
    let verdict!: (clean: boolean) => void;
    const w = new WebhookSync(() => true, r.sync, new Promise((res) => (verdict = res)), logger);
    w.accept(event("credit-risk", "2"));
    await settle();
    verdict(false);
    await settle();
    w.accept(event("credit-risk", "3"));
    await settle();
    expect(r.calls).toEqual([]);
  });

  it("stops starting syncs once closed; what is still queued is left to the next sync job", async () => {
    const r = recorder();
    const w = new WebhookSync(() => true, r.sync, Promise.resolve(true), logger);
    w.accept(event("m", "1"));
    await settle();
    w.accept(event("m", "2"));
    const closed = w.close();
    r.release();
    await closed;
    w.accept(event("m", "3"));
    await settle();
    expect(r.calls).toEqual([[{ model: "m", version: "1" }]]);
  });

  it("keeps going after a failed sync", async () => {
    let n = 0;
    const seen: Version[][] = [];
    const later: (() => void)[] = [];
    const sync = async (v: Version[]) => {
      seen.push(v);
      if (n++ === 0) {
        later.forEach((f) => f());
        throw new Error("mlflow unreachable");
      }
    };
    const w = new WebhookSync(() => true, sync, Promise.resolve(true), logger);
    later.push(() => w.accept(event("m", "2")));
    w.accept(event("m", "1"));
    await settle();
    expect(seen).toEqual([[{ model: "m", version: "1" }], [{ model: "m", version: "2" }]]);
  });
});
