import { createServer } from "node:net";
import { join } from "node:path";
import { Registry } from "prom-client";
import { afterEach, describe, expect, it } from "vitest";
import { SealgateConfig } from "../../src/app/config/schema.js";
import { recordEvent } from "../../src/cli/event-append.js";
import { appendEvent } from "../../src/governance/events/append.js";
import { createDaemonServer, listen } from "../../src/pipeline/daemon/http.js";
import { eventsHandler } from "../../src/pipeline/daemon/events-route.js";
import { eventFixture } from "../support/events.js";

/*
 * How a command's event reaches the ledger: directly when the lock is free; through the daemon's
 * POST /events (found at daemon.listen, with its access token) when the daemon holds it; and,
 * with the lock held and no daemon there, not at all, saying why.
 */

const TOKEN = "tok-cli-events-5d2b";
const closers: (() => void)[] = [];
afterEach(() => closers.splice(0).forEach((c) => c()));

/** A port nothing listens on now. */
async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
  const { port } = s.address() as { port: number };
  await new Promise((r) => s.close(r));
  return port;
}

const configFor = (port: number) =>
  SealgateConfig.parse({
    mlflow: { trackingUri: "http://127.0.0.1:1" },
    store: { path: "." },
    daemon: { listen: { port }, http: { accessToken: "${SEALGATE_TEST_DAEMON_TOKEN}" } },
  });

describe("recording a command's event", () => {
  it("appends directly when the ledger is free", async () => {
    const f = await eventFixture();
    await f.ledger.close();
    const signed = await f.decision(new Date());
    const config = configFor(await freePort());
    const r = await recordEvent({
      config,
      configPath: join(f.dir, "sealgate.yaml"),
      env: {},
      store: f.store,
      trust: f.trust,
      jws: signed.jws,
    });
    expect(r).toMatchObject({ via: "ledger", seq: 0, digest: signed.digest });
  });

  it("hands the event to the daemon holding the ledger, with its token, and relays a refusal with its code", async () => {
    const f = await eventFixture();
    const port = await freePort();
    const server = createDaemonServer({
      ready: async () => [],
      registry: new Registry(),
      accessToken: TOKEN,
      events: eventsHandler({ append: (jws) => appendEvent(f.deps, jws), blocked: () => null }),
    });
    closers.push(() => server.close());
    await listen(server, "127.0.0.1", port);
    const o = {
      config: configFor(port),
      configPath: join(f.dir, "sealgate.yaml"),
      env: { SEALGATE_TEST_DAEMON_TOKEN: TOKEN },
      store: f.store,
      trust: f.trust,
    };
    // f.ledger is open in this process: the lock is held, as by a running daemon.
    const signed = await f.decision(new Date());
    expect(await recordEvent({ ...o, jws: signed.jws })).toMatchObject({
      via: "daemon",
      seq: 0,
      digest: signed.digest,
    });
    expect(f.ledger.size).toBe(1);
    const skewed = await f.decision(new Date(Date.now() + 600_000));
    await expect(recordEvent({ ...o, jws: skewed.jws })).rejects.toMatchObject({
      code: "EVENT_CLOCK_SKEW",
      exitCode: 1,
    });
    // A wrong token is the daemon's 401, not an append.
    await expect(
      recordEvent({ ...o, env: { SEALGATE_TEST_DAEMON_TOKEN: "wrong" }, jws: signed.jws }),
    ).rejects.toMatchObject({ code: "HTTP_STATUS" });
    expect(f.ledger.size).toBe(1);
    await f.ledger.close();
  });

  it("says why nothing was appended when the ledger is held and no daemon answers", async () => {
    const f = await eventFixture();
    const port = await freePort();
    const r = await recordEvent({
      config: configFor(port),
      configPath: join(f.dir, "sealgate.yaml"),
      env: { SEALGATE_TEST_DAEMON_TOKEN: TOKEN },
      store: f.store,
      trust: f.trust,
      jws: (await f.decision(new Date())).jws,
    });
    expect(r.via).toBe("none");
    expect((r as { reason: string }).reason).toContain(`no daemon answers at http://127.0.0.1:${port}`);
    expect(f.ledger.size).toBe(0);
    await f.ledger.close();
  });
});
