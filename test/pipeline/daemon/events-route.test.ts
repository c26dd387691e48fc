import { Registry } from "prom-client";
import { afterEach, describe, expect, it } from "vitest";
import { appendEvent } from "../../../src/governance/events/append.js";
import { createDaemonServer, listen } from "../../../src/pipeline/daemon/http.js";
import { eventsHandler } from "../../../src/pipeline/daemon/events-route.js";
import { eventFixture } from "../../support/events.js";

/*
 * POST /events on the daemon's HTTP face: a person's signed event handed over while the daemon
 * holds the ledger. It wants the access token, bounds the body, and appends only an event that
 * verifies and whose claimed time is within the skew; every refusal leaves the ledger as it was.
 */

const TOKEN = "tok-events-7c1e9a";
const servers: { close: () => void }[] = [];
afterEach(() => servers.splice(0).forEach((s) => s.close()));

async function start(blocked: () => string | null = () => null) {
  const f = await eventFixture();
  const server = createDaemonServer({
    ready: async () => [],
    registry: new Registry(),
    accessToken: TOKEN,
    events: eventsHandler({ append: (jws) => appendEvent(f.deps, jws), blocked, maxBytes: 16 * 1024 }),
  });
  servers.push(server);
  const { port } = await listen(server, "127.0.0.1", 0);
  const post = async (body: string, token: string | null = TOKEN) => {
    const r = await fetch(`http://127.0.0.1:${port}/events`, {
      method: "POST",
      headers: { "content-type": "application/jose", ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body,
    });
    return { status: r.status, body: (await r.json().catch(() => null)) as Record<string, unknown> | null };
  };
  return { ...f, post };
}

describe("daemon POST /events", () => {
  it("appends a valid signed event and answers with its entry's seq, time and digest", async () => {
    const s = await start();
    const signed = await s.decision(new Date());
    const r = await s.post(signed.jws);
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ seq: 0, digest: signed.digest, already: false });
    expect(s.ledger.size).toBe(1);
    const entries = [];
    for await (const b of s.ledger.read()) entries.push(...b);
    const [entry] = entries;
    expect(entry).toMatchObject({ kind: "event", object: signed.digest, time: r.body!.time });
    await s.ledger.close();
  });

  it("refuses without the token, a bad signature, an oversize body and a skewed time, appending nothing", async () => {
    const s = await start();
    const good = await s.decision(new Date());
    expect((await s.post(good.jws, null)).status).toBe(401);
    expect((await s.post(good.jws, "wrong")).status).toBe(401);

    const [h, p, sig] = good.jws.split(".");
    const forged = `${h}.${p}.${sig!.startsWith("A") ? "B" : "A"}${sig!.slice(1)}`;
    const bad = await s.post(forged);
    expect(bad.status).toBe(422);
    expect(String(bad.body!.code)).toMatch(/^SIGNATURE_(INVALID|MALFORMED)$/);

    const huge = await s.post(`${good.jws}${"A".repeat(20 * 1024)}`);
    expect(huge).toMatchObject({ status: 413, body: { code: "EVENT_TOO_LARGE" } });

    const skewed = await s.post((await s.decision(new Date(Date.now() + 600_000))).jws);
    expect(skewed.status).toBe(422);
    expect(skewed.body).toMatchObject({ code: "EVENT_CLOCK_SKEW" });
    expect(String(skewed.body!.reason)).toContain("events.maxClockSkew allows 300 s");

    expect((await s.post("not a jws")).body).toMatchObject({ code: "SIGNATURE_MALFORMED" });
    expect(s.ledger.size).toBe(0);
    // The same good event is still accepted afterwards.
    expect((await s.post(good.jws)).status).toBe(200);
    expect(s.ledger.size).toBe(1);
    await s.ledger.close();
  });

  it("answers 503 and appends nothing while the daemon may not append", async () => {
    const s = await start(() => "start-up verification of the ledger failed; run sealgate verify");
    const r = await s.post((await s.decision(new Date())).jws);
    expect(r).toMatchObject({ status: 503, body: { code: "DAEMON_NOT_APPENDING" } });
    expect(s.ledger.size).toBe(0);
    await s.ledger.close();
  });
});
