import { appendFile, mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import type { SealgateError } from "../../../src/core/errors.js";
import { appendJsonl, readJsonl } from "../../../src/evidence/store/jsonl.js";
import { OutboxWriter, outboxPath, readOutbox } from "../../../src/delivery/outbox/outbox.js";
import { retryDeliveries } from "../../../src/delivery/outbox/retry.js";
import { fold, type Transition } from "../../../src/delivery/outbox/state.js";

const R1 = `sha256:${"1".repeat(64)}`;
const R2 = `sha256:${"2".repeat(64)}`;
const at = (s: number) => new Date(Date.UTC(2026, 10, 21, 8, 0, s)).toISOString();

describe("the outbox", () => {
  it("folds transitions into states, keeping the remote id through failures and retries", () => {
    const t: Transition[] = [
      { to: "in_flight", record: R1, at: at(0), attempt: 1 },
      { to: "remote", record: R1, at: at(1), remote: { id: "INC1" } },
      { to: "failed", record: R1, at: at(2), attempts: 1, error: "503", retryAt: at(30) },
      { to: "in_flight", record: R1, at: at(31), attempt: 2 },
      { to: "dead", record: R1, at: at(32), attempts: 2, error: "503 again" },
      { to: "retry", record: R1, at: at(40) },
      { to: "in_flight", record: R2, at: at(41), attempt: 1 },
    ];
    const states = fold(t);
    expect(states.get(R1)).toEqual({
      record: R1,
      state: "pending",
      attempts: 0,
      remote: { id: "INC1" },
      since: at(40),
    });
    expect(states.get(R2)).toMatchObject({ state: "in_flight", attempts: 0 });
  });

  it("persists transitions, cuts a torn last line on the next writer's open, and reads past it before", async () => {
    const root = await mkdtemp(join(tmpdir(), "sealgate-outbox-"));
    const w = await OutboxWriter.open(root, "vanta");
    await w.record({ to: "in_flight", record: R1, at: at(0), attempt: 1 });
    await w.record({ to: "delivered", record: R1, at: at(1), remote: { id: "doc-1" }, files: [] });
    await w.close();
    const path = outboxPath(root, "vanta");
    await appendFile(path, '{"to":"in_flight","record":"sha256:22');
    expect((await readOutbox(root, "vanta")).get(R1)?.state).toBe("delivered");
    const w2 = await OutboxWriter.open(root, "vanta");
    await w2.record({ to: "in_flight", record: R2, at: at(2), attempt: 1 });
    await w2.close();
    const lines = (await readFile(path, "utf8")).split("\n");
    expect(lines).toHaveLength(4);
    expect(lines.slice(0, 3).every((l) => JSON.parse(l))).toBe(true);
    expect((await readOutbox(root, "vanta")).get(R2)?.state).toBe("in_flight");
  });

  it("refuses a corrupt line that is not the last, naming the file, line and fix", async () => {
    const root = await mkdtemp(join(tmpdir(), "sealgate-outbox-"));
    const w = await OutboxWriter.open(root, "archer");
    await w.record({ to: "in_flight", record: R1, at: at(0), attempt: 1 });
    await w.close();
    const path = outboxPath(root, "archer");
    await writeFile(path, `{"to":"bogus"}\n${await readFile(path, "utf8")}`);
    await expect(readOutbox(root, "archer")).rejects.toMatchObject({
      code: "STATE_CORRUPT",
      message: expect.stringMatching(/archer.jsonl line 1 is not a valid entry; move the file aside/),
    });
  });

  it("survives a torn tail at any byte: all complete transitions are kept", async () => {
    const root = await mkdtemp(join(tmpdir(), "sealgate-outbox-"));
    const w = await OutboxWriter.open(root, "d");
    for (let i = 0; i < 5; i++) await w.record({ to: "in_flight", record: R1, at: at(i), attempt: i + 1 });
    await w.record({ to: "remote", record: R1, at: at(9), remote: { id: "X" } });
    await w.close();
    const full = await readFile(outboxPath(root, "d"));
    const lastStart = full.subarray(0, -1).lastIndexOf(10) + 1;
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: lastStart, max: full.length - 1 }), async (cut) => {
        await writeFile(outboxPath(root, "d"), full.subarray(0, cut));
        const s = (await readOutbox(root, "d")).get(R1)!;
        expect(s.state).toBe("in_flight");
        expect(s.remote).toBeUndefined();
      }),
      { numRuns: 40 },
    );
  });

  it("allows one writer at a time, and rejects destination names that are not file-safe", async () => {
    const root = await mkdtemp(join(tmpdir(), "sealgate-outbox-"));
    const w = await OutboxWriter.open(root, "snow");
    const refused = (await OutboxWriter.open(root, "snow").catch((e: unknown) => e)) as SealgateError;
    expect([refused.code, refused.exitCode]).toEqual(["OUTBOX_LOCKED", 2]);
    await expect(retryDeliveries(root, "snow", { waitMs: 0 })).rejects.toMatchObject({
      code: "OUTBOX_LOCKED",
    });
    await w.close();
    expect(() => outboxPath(root, "../etc")).toThrow(/destination name "..\/etc" must be letters/);
  });

  it("never glues a new line onto a torn one, so an unlocked cache loses at most the torn entry", async () => {
    const root = await mkdtemp(join(tmpdir(), "sealgate-jsonl-"));
    const path = join(root, "cache.jsonl");
    const Entry = z.strictObject({ n: z.int() });
    await appendJsonl(path, [{ n: 1 }]);
    await appendFile(path, '{"n":');
    await appendJsonl(path, [{ n: 2 }]);
    expect((await readJsonl(path, Entry, { skipInvalid: true })).items).toEqual([{ n: 1 }, { n: 2 }]);
    await expect(readJsonl(path, Entry)).rejects.toMatchObject({ code: "STATE_CORRUPT" });
  });
});
