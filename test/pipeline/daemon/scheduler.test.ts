import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import { Lane } from "../../../src/pipeline/daemon/lane.js";
import { Scheduler } from "../../../src/pipeline/daemon/scheduler.js";
import { createLogger } from "../../../src/core/log.js";

/*
 * The scheduler's promises, without waiting for cron: a job is never started while its
 * previous run (or its jitter wait) is under way, skips are counted, failures are reported
 * and do not stop later runs, and stop() waits for the running step but cancels waiting ones.
 */

const logs: string[] = [];
const logger = createLogger({
  level: "debug",
  destination: new Writable({ write: (c, _e, cb) => (logs.push(String(c)), cb()) }),
});

function deferred() {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

function counting() {
  const events = { started: [] as string[], ended: [] as [string, string][], skipped: [] as string[] };
  return {
    events,
    hooks: {
      onStart: (j: string) => events.started.push(j),
      onEnd: (j: string, r: "ok" | "failed") => events.ended.push([j, r]),
      onSkip: (j: string) => events.skipped.push(j),
    },
  };
}

describe("scheduler", () => {
  it("never starts a slow job twice, counts the skipped ticks, runs again once it ended", async () => {
    const { events, hooks } = counting();
    const s = new Scheduler(logger, hooks);
    const gate = deferred();
    let runs = 0;
    s.add({
      name: "slow",
      schedule: "* * * * *",
      jitterSeconds: 0,
      run: async () => {
        runs++;
        await gate.promise;
      },
    });
    const first = s.trigger("slow");
    expect(first).not.toBeNull();
    expect(s.trigger("slow")).toBeNull();
    expect(s.trigger("slow")).toBeNull();
    expect(runs).toBe(1);
    expect(events.skipped).toEqual(["slow", "slow"]);
    gate.resolve();
    await first;
    expect(events.ended).toEqual([["slow", "ok"]]);
    await s.trigger("slow");
    expect(runs).toBe(2);
  });

  it("keeps jobs independent: one job running does not skip another", async () => {
    const s = new Scheduler(logger);
    const gate = deferred();
    const ran: string[] = [];
    s.add({ name: "a", schedule: "* * * * *", jitterSeconds: 0, run: () => (ran.push("a"), gate.promise) });
    s.add({ name: "b", schedule: "* * * * *", jitterSeconds: 0, run: async () => void ran.push("b") });
    const a = s.trigger("a");
    await s.trigger("b");
    expect(ran).toEqual(["a", "b"]);
    gate.resolve();
    await a;
  });

  it("reports a failed run and still runs the next tick", async () => {
    const { events, hooks } = counting();
    const s = new Scheduler(logger, hooks);
    let n = 0;
    s.add({
      name: "flaky",
      schedule: "* * * * *",
      jitterSeconds: 0,
      run: async () => {
        if (n++ === 0) throw new Error("mlflow unreachable");
      },
    });
    await s.trigger("flaky");
    await s.trigger("flaky");
    expect(events.ended).toEqual([
      ["flaky", "failed"],
      ["flaky", "ok"],
    ]);
    expect(logs.some((l) => l.includes('"job":"flaky"') && l.includes("mlflow unreachable"))).toBe(true);
  });

  it("counts a run waiting out its jitter as running, and stop() cancels it without running it", async () => {
    const { events, hooks } = counting();
    // random() = 1: the full jitter of one hour, so the run can only end through stop().
    const s = new Scheduler(logger, hooks, () => 1);
    let runs = 0;
    s.add({ name: "jittered", schedule: "* * * * *", jitterSeconds: 3600, run: async () => void runs++ });
    const waiting = s.trigger("jittered");
    expect(s.trigger("jittered")).toBeNull();
    await s.stop();
    await waiting;
    expect(runs).toBe(0);
    expect(events.started).toEqual([]);
    expect(s.trigger("jittered")).toBeNull();
  });

  it("stop() waits for the running step to finish", async () => {
    const s = new Scheduler(logger);
    const gate = deferred();
    let finished = false;
    s.add({
      name: "long",
      schedule: "* * * * *",
      jitterSeconds: 0,
      run: async () => {
        await gate.promise;
        finished = true;
      },
    });
    s.start();
    void s.trigger("long");
    const stopped = s.stop().then(() => finished);
    gate.resolve();
    expect(await stopped).toBe(true);
  });

  it("fires on its cron schedule", async () => {
    const s = new Scheduler(logger);
    const ticked = deferred();
    s.add({
      name: "every-second",
      schedule: "* * * * * *",
      jitterSeconds: 0,
      run: async () => ticked.resolve(),
    });
    s.start();
    await ticked.promise;
    await s.stop();
  });
});

describe("lane", () => {
  it("runs steps one at a time in arrival order, even when one fails", async () => {
    const lane = new Lane();
    const order: string[] = [];
    let inside = 0;
    const step = (name: string, fail = false) =>
      lane.run(async () => {
        expect(++inside).toBe(1);
        order.push(`${name}:start`);
        await new Promise((r) => setImmediate(r));
        order.push(`${name}:end`);
        inside--;
        if (fail) throw new Error(name);
      });
    const results = await Promise.allSettled([step("seal"), step("push", true), step("verify")]);
    expect(results.map((r) => r.status)).toEqual(["fulfilled", "rejected", "fulfilled"]);
    expect(order).toEqual(["seal:start", "seal:end", "push:start", "push:end", "verify:start", "verify:end"]);
    await lane.idle();
    expect(lane.busy).toBe(0);
  });
});
