import { createHmac, randomUUID } from "node:crypto";
import { appendFile, mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { WebhookReceiver } from "../../../connectors/mlflow/webhook.js";
import type { SealgateError } from "../../../src/core/errors.js";
import { SeenDeliveries } from "../../../src/pipeline/daemon/seen-deliveries.js";

/*
 * The webhook replay journal: accepted delivery ids survive a restart, a line torn by SIGKILL
 * or a stray bad line does not stop the next start, and ids past the window are dropped both
 * at start and, once the file is mostly expired ids, while running.
 */

const SECRET = "whsec-journal-test";
const T0 = 1_800_000_000_000;

const file = async () => join(await mkdtemp(join(tmpdir(), "sealgate-seen-")), "webhook", "seen.jsonl");
const lines = async (path: string) => (await readFile(path, "utf8")).split("\n").filter(Boolean);

function delivery(id: string, ts: number) {
  const raw = JSON.stringify({
    entity: "model_version_tag",
    action: "set",
    data: { name: "credit-risk", version: "3", key: "k", value: "v" },
  });
  const mac = createHmac("sha256", SECRET).update(`${id}.${ts}.${raw}`).digest("base64");
  return {
    headers: {
      "x-mlflow-delivery-id": id,
      "x-mlflow-timestamp": String(ts),
      "x-mlflow-signature": `v1,${mac}`,
    },
    rawBody: Buffer.from(raw),
  };
}

/** A receiver as the daemon builds one at start: seeded from the journal, writing to it. */
async function start(path: string, now: number) {
  const { seen, report } = await SeenDeliveries.open(path, 300, { now: () => now });
  const receiver = new WebhookReceiver({
    secret: SECRET,
    now: () => now,
    seen: seen.entries(),
    journal: seen,
  });
  return { receiver, report };
}

const refusal = (p: Promise<unknown>) =>
  p.then(
    () => "accepted",
    (e: unknown) => (e as SealgateError).code,
  );

describe("webhook replay journal", () => {
  it("refuses a delivery accepted before a restart, and accepts new ones", async () => {
    const path = await file();
    const sec = T0 / 1000;
    const first = await start(path, T0);
    const d = delivery(randomUUID(), sec);
    expect(await refusal(first.receiver.receiveDurably(d))).toBe("accepted");

    const second = await start(path, T0 + 5_000);
    expect(second.report).toEqual({ kept: 1, expired: 0, tornBytes: 0 });
    expect(await refusal(second.receiver.receiveDurably(d))).toBe("WEBHOOK_REPLAYED");
    expect(await refusal(second.receiver.receiveDurably(delivery(randomUUID(), sec + 5)))).toBe("accepted");
    expect(await lines(path)).toHaveLength(2);
  });

  it("starts after a line torn by a crash mid-append, keeping every complete line", async () => {
    const path = await file();
    const sec = T0 / 1000;
    const first = await start(path, T0);
    await first.receiver.receiveDurably(delivery("d-1", sec));
    const torn = '{"id":"d-2","ts":18000';
    await appendFile(path, torn);

    const second = await start(path, T0 + 1_000);
    expect(second.report).toEqual({ kept: 1, expired: 0, tornBytes: torn.length });
    expect(await lines(path)).toEqual([`{"id":"d-1","ts":${sec}}`]);
    expect(await refusal(second.receiver.receiveDurably(delivery("d-1", sec)))).toBe("WEBHOOK_REPLAYED");
    expect(await refusal(second.receiver.receiveDurably(delivery("d-3", sec + 1)))).toBe("accepted");
    expect(await lines(path)).toEqual([`{"id":"d-1","ts":${sec}}`, `{"id":"d-3","ts":${sec + 1}}`]);
  });

  it("skips a line that is not an entry and drops ids past the window when it opens", async () => {
    const path = await file();
    const sec = T0 / 1000;
    await start(path, T0); // creates the folder
    await writeFile(
      path,
      [`{"id":"old","ts":${sec - 301}}`, "\u0000\u0000garbage", `{"id":"new","ts":${sec - 299}}`, ""].join(
        "\n",
      ),
    );
    const { receiver, report } = await start(path, T0);
    expect(report).toEqual({ kept: 1, expired: 1, tornBytes: 0 });
    expect(await lines(path)).toEqual([`{"id":"new","ts":${sec - 299}}`]);
    expect(await refusal(receiver.receiveDurably(delivery("new", sec)))).toBe("WEBHOOK_REPLAYED");
  });

  it("rewrites the file while running once it is mostly ids past the window", async () => {
    const path = await file();
    let now = T0;
    const { seen } = await SeenDeliveries.open(path, 300, { now: () => now, compactMinLines: 4 });
    for (const id of ["a", "b", "c"]) await seen.record(id, now / 1000);
    now += 301_000;
    await seen.record("d", now / 1000);
    expect(await lines(path)).toEqual([`{"id":"d","ts":${now / 1000}}`]);
    expect(seen.entries()).toEqual([["d", now / 1000]]);
  });
});
