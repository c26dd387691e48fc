import { createHmac, randomUUID } from "node:crypto";
import { createServer, type Server } from "node:http";
import { type AddressInfo, connect } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { SealgateError } from "../../../src/core/errors.js";
import type { VersionChangedEvent } from "../events.js";
import { type WebhookDelivery, type WebhookRefusal, WebhookReceiver, webhookHandler } from "../webhook.js";
import { createTestModel, testClient } from "./helpers.js";

const SECRET = "whsec-test-0123456789";

function sign(secret: string, id: string, ts: string, body: string) {
  return `v1,${createHmac("sha256", secret).update(`${id}.${ts}.${body}`).digest("base64")}`;
}

function delivery(body: object, opts: { secret?: string; ts?: number; id?: string } = {}) {
  const raw = JSON.stringify(body);
  const ts = String(opts.ts ?? Math.floor(Date.now() / 1000));
  const id = opts.id ?? randomUUID();
  return {
    headers: {
      "x-mlflow-delivery-id": id,
      "x-mlflow-timestamp": ts,
      "x-mlflow-signature": sign(opts.secret ?? SECRET, id, ts, raw),
    },
    rawBody: Buffer.from(raw),
  };
}

const tagSet = {
  entity: "model_version_tag",
  action: "set",
  timestamp: new Date().toISOString(),
  data: { name: "credit-risk", version: "3", key: "approval", value: "ok" },
};

const codeOf = (fn: () => unknown) => {
  try {
    fn();
  } catch (e) {
    return (e as SealgateError).code;
  }
  return "no error";
};

describe("webhook verification", () => {
  it("turns a valid delivery into a version-changed event", () => {
    const r = new WebhookReceiver({ secret: SECRET });
    expect(r.receive(delivery(tagSet))).toMatchObject({
      model: "credit-risk",
      version: "3",
      origin: "webhook",
      changes: [{ kind: "tag", key: "approval", after: "ok" }],
    });
  });

  it("refuses a signature made with another secret, a modified body, or no signature", () => {
    const r = new WebhookReceiver({ secret: SECRET });
    expect(codeOf(() => r.receive(delivery(tagSet, { secret: "wrong" })))).toBe("WEBHOOK_SIGNATURE_INVALID");
    const d = delivery(tagSet);
    d.rawBody = Buffer.from(d.rawBody.toString().replace('"ok"', '"no"'));
    expect(codeOf(() => r.receive(d))).toBe("WEBHOOK_SIGNATURE_INVALID");
    const bare = delivery(tagSet);
    delete (bare.headers as Record<string, string>)["x-mlflow-signature"];
    expect(codeOf(() => r.receive(bare))).toBe("WEBHOOK_SIGNATURE_INVALID");
  });

  it("refuses timestamps outside the five-minute window, both ways", () => {
    const now = Date.now();
    const r = new WebhookReceiver({ secret: SECRET, now: () => now });
    const sec = Math.floor(now / 1000);
    expect(codeOf(() => r.receive(delivery(tagSet, { ts: sec - 301 })))).toBe("WEBHOOK_TIMESTAMP_STALE");
    expect(codeOf(() => r.receive(delivery(tagSet, { ts: sec + 301 })))).toBe("WEBHOOK_TIMESTAMP_STALE");
    expect(codeOf(() => r.receive(delivery(tagSet, { ts: sec - 299 })))).toBe("no error");
  });

  it("refuses a replayed delivery id, even re-signed with a fresh timestamp", () => {
    let now = Date.now();
    const r = new WebhookReceiver({ secret: SECRET, now: () => now });
    const d = delivery(tagSet, { id: "d-1", ts: Math.floor(now / 1000) });
    r.receive(d);
    expect(codeOf(() => r.receive(d))).toBe("WEBHOOK_REPLAYED");
    now += 10_000;
    expect(codeOf(() => r.receive(delivery(tagSet, { id: "d-1", ts: Math.floor(now / 1000) })))).toBe(
      "WEBHOOK_REPLAYED",
    );
  });

  it("refuses a signed body that is not an MLflow payload", () => {
    const r = new WebhookReceiver({ secret: SECRET });
    expect(codeOf(() => r.receive(delivery({ hello: "world" })))).toBe("WEBHOOK_PAYLOAD_INVALID");
    expect(codeOf(() => r.receive(delivery({ ...tagSet, data: { name: "m", version: "../1" } })))).toBe(
      "WEBHOOK_PAYLOAD_INVALID",
    );
  });

  it("resolves the version of a deleted alias from what reconcile last saw", () => {
    const r = new WebhookReceiver({
      secret: SECRET,
      versionOfAlias: (m, a) => (m === "x" && a === "champion" ? "7" : undefined),
    });
    const ev = r.receive(
      delivery({ entity: "model_version_alias", action: "deleted", data: { name: "x", alias: "champion" } }),
    );
    expect(ev).toMatchObject({
      version: "7",
      changes: [{ kind: "alias", alias: "champion", before: true, after: false }],
    });
  });
});

describe("the webhook route", () => {
  /** The handler on a real node:http server, recording what it accepts and what it refuses. */
  async function serve(receiver: WebhookReceiver, maxBytes?: number) {
    const events: VersionChangedEvent[] = [];
    const refusals: WebhookRefusal[] = [];
    const server = createServer(
      webhookHandler(
        receiver,
        (e) => events.push(e),
        (r) => refusals.push(r),
        maxBytes,
      ),
    );
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const port = (server.address() as AddressInfo).port;
    const url = `http://127.0.0.1:${port}/hooks/mlflow`;
    const post = async (d: WebhookDelivery) => {
      const r = await fetch(url, {
        method: "POST",
        headers: d.headers as Record<string, string>,
        body: new Uint8Array(d.rawBody),
      });
      return { status: r.status, text: await r.text() };
    };
    return { events, refusals, post, port, close: () => new Promise((r) => server.close(r)) };
  }

  it("answers 413 to an oversized body and reports it as a refusal with its delivery id", async () => {
    const s = await serve(new WebhookReceiver({ secret: SECRET }), 1024);
    try {
      const big = delivery({ ...tagSet, data: { ...tagSet.data, value: "x".repeat(2000) } }, { id: "big-1" });
      expect(await s.post(big)).toEqual({ status: 413, text: "WEBHOOK_TOO_LARGE\n" });
      expect(s.refusals).toEqual([
        {
          code: "WEBHOOK_TOO_LARGE",
          status: 413,
          deliveryId: "big-1",
          reason: expect.stringMatching(/^delivery body is \d+ bytes, over the 1024-byte limit$/),
        },
      ]);
      expect(s.events).toEqual([]);
    } finally {
      await s.close();
    }
  });

  it("cuts off a huge body sent without Content-Length: 413 and a closed connection, the rest never read", async () => {
    const s = await serve(new WebhookReceiver({ secret: SECRET }), 1024);
    // A raw socket, so the sender can stream (chunked, no length) far more than any buffer holds.
    const sock = connect(s.port, "127.0.0.1");
    const reply: Buffer[] = [];
    sock.on("data", (b: Buffer) => reply.push(b));
    const closed = new Promise<void>((resolve) => sock.on("close", () => resolve()));
    sock.on("error", () => {}); // a reset while still sending is one way to be cut off
    const total = 256 * 2 ** 20;
    const chunk = Buffer.alloc(64 * 1024, "x");
    const framed = Buffer.concat([
      Buffer.from(`${chunk.length.toString(16)}\r\n`),
      chunk,
      Buffer.from("\r\n"),
    ]);
    let sent = 0;
    let open = true;
    void closed.then(() => (open = false));
    try {
      sock.write(
        "POST /hooks/mlflow HTTP/1.1\r\nhost: x\r\nx-mlflow-delivery-id: huge-1\r\ntransfer-encoding: chunked\r\n\r\n",
      );
      while (open && sent < total) {
        sent += chunk.length;
        // Waits while the kernel buffers are full: a server that stopped reading stops us here.
        if (!sock.write(framed))
          await new Promise<void>((r) => {
            sock.once("drain", r);
            sock.once("close", r);
          });
      }
      await closed;
      expect(sent).toBeLessThan(total);
      const text = Buffer.concat(reply).toString("latin1");
      if (text)
        expect(text).toMatch(/^HTTP\/1\.1 413 [^]*connection: close[^]*\r\n\r\n[^]*WEBHOOK_TOO_LARGE\n/i);
      expect(s.refusals).toEqual([
        {
          code: "WEBHOOK_TOO_LARGE",
          status: 413,
          deliveryId: "huge-1",
          reason: expect.stringMatching(
            /^delivery body passed \d+ bytes before it was cut off, over the 1024-byte limit$/,
          ),
        },
      ]);
      // Cut off at the first chunk over the limit, not after reading on.
      expect(Number(/passed (\d+) bytes/.exec(s.refusals[0]!.reason)![1])).toBeLessThanOrEqual(
        1024 + chunk.length,
      );
    } finally {
      sock.destroy();
      await s.close();
    }
  });

  it("refuses a body whose Content-Length is over the limit before reading it", async () => {
    const s = await serve(new WebhookReceiver({ secret: SECRET }), 1024);
    const sock = connect(s.port, "127.0.0.1");
    const reply: Buffer[] = [];
    sock.on("data", (b: Buffer) => reply.push(b));
    const closed = new Promise<void>((resolve) => sock.on("close", () => resolve()));
    try {
      // Headers only: the server must answer without waiting for the 10 GB it was promised.
      sock.write("POST /hooks/mlflow HTTP/1.1\r\nhost: x\r\ncontent-length: 10000000000\r\n\r\n");
      await closed;
      expect(Buffer.concat(reply).toString("latin1")).toMatch(
        /^HTTP\/1\.1 413 [^]*connection: close[^]*\r\n\r\n[^]*WEBHOOK_TOO_LARGE\n/i,
      );
      expect(s.refusals).toMatchObject([
        { code: "WEBHOOK_TOO_LARGE", reason: "delivery body is 10000000000 bytes, over the 1024-byte limit" },
      ]);
    } finally {
      sock.destroy();
      await s.close();
    }
  });

  it("reports every refusal with its reason and the delivery id as sent, made safe for a log line", async () => {
    const s = await serve(new WebhookReceiver({ secret: SECRET }));
    try {
      const good = delivery(tagSet, { id: "d-ok" });
      expect((await s.post(good)).status).toBe(204);
      expect(await s.post(good)).toEqual({ status: 401, text: "WEBHOOK_REPLAYED\n" });
      expect((await s.post(delivery(tagSet, { id: "d-forged", secret: "wrong" }))).status).toBe(401);
      const stale = delivery(tagSet, { id: "d-stale", ts: Math.floor(Date.now() / 1000) - 3600 });
      expect((await s.post(stale)).status).toBe(401);
      expect((await s.post(delivery({ hello: "world" }, { id: "d-junk" }))).status).toBe(400);
      const bare = delivery(tagSet);
      delete (bare.headers as Record<string, string>)["x-mlflow-delivery-id"];
      expect((await s.post(bare)).status).toBe(401);
      expect((await s.post(delivery(tagSet, { id: `x\té${"z".repeat(200)}`, secret: "wrong" }))).status).toBe(
        401,
      );
      expect(s.refusals.map((r) => [r.code, r.status, r.deliveryId])).toEqual([
        ["WEBHOOK_REPLAYED", 401, "d-ok"],
        ["WEBHOOK_SIGNATURE_INVALID", 401, "d-forged"],
        ["WEBHOOK_TIMESTAMP_STALE", 401, "d-stale"],
        ["WEBHOOK_PAYLOAD_INVALID", 400, "d-junk"],
        ["WEBHOOK_SIGNATURE_INVALID", 401, undefined],
        ["WEBHOOK_SIGNATURE_INVALID", 401, `x??${"z".repeat(77)}…`],
      ]);
      expect(s.refusals.map((r) => r.reason)).toEqual([
        'delivery "d-ok" was already received',
        'delivery "d-forged": signature mismatch',
        expect.stringMatching(/^delivery "d-stale": timestamp "\d+" is outside the 300 s window$/),
        "delivery body is not an MLflow webhook payload",
        "delivery lacks X-MLflow-Delivery-Id, X-MLflow-Timestamp or X-MLflow-Signature",
        expect.stringContaining("signature mismatch"),
      ]);
    } finally {
      await s.close();
    }
  });

  it("acknowledges only once the delivery id is recorded; a failed write is a 503, not a later replay", async () => {
    const recorded: string[] = [];
    let fail = true;
    const journal = {
      record: async (id: string) => {
        if (fail) throw new Error("ENOSPC: no space left on device");
        recorded.push(id);
      },
    };
    const s = await serve(new WebhookReceiver({ secret: SECRET, journal }));
    try {
      const d = delivery(tagSet, { id: "d-disk" });
      expect(await s.post(d)).toEqual({ status: 503, text: "IO\n" });
      expect(s.events).toEqual([]);
      expect(s.refusals[0]).toMatchObject({ code: "IO", deliveryId: "d-disk" });
      fail = false;
      expect((await s.post(d)).status).toBe(204);
      expect(recorded).toEqual(["d-disk"]);
      expect(s.events).toHaveLength(1);
    } finally {
      await s.close();
    }
  });

  it("refuses ids it was told were accepted before a restart, while they are inside the window", () => {
    const now = Date.now();
    const sec = Math.floor(now / 1000);
    const r = new WebhookReceiver({
      secret: SECRET,
      now: () => now,
      seen: [
        ["d-old", sec - 400],
        ["d-recent", sec - 10],
      ],
    });
    expect(codeOf(() => r.receive(delivery(tagSet, { id: "d-recent" })))).toBe("WEBHOOK_REPLAYED");
    expect(codeOf(() => r.receive(delivery(tagSet, { id: "d-old" })))).toBe("no error");
  });
});

describe("real deliveries from the MLflow server", () => {
  let server: Server;
  let url: string;
  const events: VersionChangedEvent[] = [];
  const rejected: string[] = [];
  const webhookIds: string[] = [];

  beforeAll(async () => {
    const receiver = new WebhookReceiver({ secret: SECRET });
    server = createServer(
      webhookHandler(
        receiver,
        (e) => events.push(e),
        (err) => rejected.push(err.code),
      ),
    );
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks/mlflow`;
  });
  afterAll(async () => {
    const client = testClient();
    for (const id of webhookIds) {
      await client.http.json({ method: "DELETE", path: `api/2.0/mlflow/webhooks/${id}` }).catch(() => {});
    }
    server.close();
  });

  async function createWebhook(secret: string) {
    const body = (await testClient().http.json({
      method: "POST",
      path: "api/2.0/mlflow/webhooks",
      json: {
        name: `sealgate-${randomUUID().slice(0, 8)}`,
        url,
        secret,
        events: [
          { entity: "MODEL_VERSION", action: "CREATED" },
          { entity: "MODEL_VERSION_TAG", action: "SET" },
          { entity: "MODEL_VERSION_ALIAS", action: "CREATED" },
        ],
      },
    })) as { webhook: { webhook_id: string } };
    webhookIds.push(body.webhook.webhook_id);
    return body.webhook.webhook_id;
  }

  async function waitFor<T>(fn: () => T | undefined, what: string): Promise<T> {
    for (let i = 0; i < 300; i++) {
      const v = fn();
      if (v !== undefined) return v;
      await sleep(100);
    }
    throw new Error(`timed out waiting for ${what}`);
  }

  it("verifies MLflow-signed deliveries for tag, alias and version events", async () => {
    const id = await createWebhook(SECRET);
    const model = await createTestModel("webhook", 1);
    // MLflow caches its webhook list (MLFLOW_WEBHOOK_CACHE_TTL=1 in tests); let it refresh.
    await sleep(1500);
    const client = testClient();
    await client.setModelVersionTag(model, "1", "sealgate.approval", "signed");
    await client.setAlias(model, "challenger", "1");
    const tag = await waitFor(
      () => events.find((e) => e.model === model && e.changes[0]?.kind === "tag"),
      "tag delivery",
    );
    expect(tag).toMatchObject({
      version: "1",
      origin: "webhook",
      changes: [{ kind: "tag", key: "sealgate.approval", after: "signed" }],
    });
    const alias = await waitFor(
      () => events.find((e) => e.model === model && e.changes[0]?.kind === "alias"),
      "alias delivery",
    );
    expect(alias).toMatchObject({
      version: "1",
      changes: [{ kind: "alias", alias: "challenger", after: true }],
    });
    await client.http.json({ method: "DELETE", path: `api/2.0/mlflow/webhooks/${id}` });
  });

  it("rejects deliveries MLflow signed with a different secret", async () => {
    const before = rejected.length;
    const id = await createWebhook("not-the-receivers-secret");
    const result = (await testClient().http.json({
      method: "POST",
      path: `api/2.0/mlflow/webhooks/${id}/test`,
      json: { event: { entity: "MODEL_VERSION_TAG", action: "SET" } },
    })) as { result: { success?: boolean; response_status?: number } };
    expect(result.result.response_status).toBe(401);
    expect(rejected.slice(before)).toEqual(["WEBHOOK_SIGNATURE_INVALID"]);
  });

  it("accepts MLflow's own test delivery when the secret matches", async () => {
    const id = await createWebhook(SECRET);
    const result = (await testClient().http.json({
      method: "POST",
      path: `api/2.0/mlflow/webhooks/${id}/test`,
      json: { event: { entity: "MODEL_VERSION_TAG", action: "SET" } },
    })) as { result: { success?: boolean; response_status?: number } };
    expect(result.result).toMatchObject({ success: true, response_status: 204 });
  });
});
