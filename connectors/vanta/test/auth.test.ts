import { describe, expect, it } from "vitest";
import { exitCodeOf, SealgateError } from "../../../src/core/errors.js";
import { VantaDestination } from "../client.js";
import { VantaConfig, VantaTarget } from "../config.js";
import type { VantaSimulatorHandle } from "../simulator/server.js";
import { captureLogs, delivery, leakedSecrets, push, simulatorPerTest } from "./helpers.js";

const vanta = simulatorPerTest();
const dest = vanta.dest;
let sim: VantaSimulatorHandle;

describe("Vanta OAuth client credentials", () => {
  it("mints one token for many concurrent first requests", async () => {
    sim = await vanta.start();
    const { dest: d } = dest();
    await Promise.all(Array.from({ length: 20 }, (_, i) => d.find(delivery(i).correlation)));
    expect(sim.stats().tokensMinted).toBe(1);
  });

  it("after revocation, concurrent 401s share one new token and every request succeeds", async () => {
    sim = await vanta.start();
    const { dest: d } = dest();
    await d.prepare();
    sim.revokeTokens();
    const ids = await Promise.all(Array.from({ length: 8 }, (_, i) => push(d, delivery(i))));
    expect(new Set(ids).size).toBe(8);
    expect(sim.stats().tokensMinted).toBe(2);
    expect(sim.stats().unauthorized).toBeGreaterThanOrEqual(1);
  });

  it("another process minting for the same app revokes ours: one re-mint, then on", async () => {
    sim = await vanta.start();
    const { dest: d } = dest();
    await d.prepare();
    // Another sealgate process with the same app mints: ours is revoked at once (single-token rule).
    const { dest: intruder } = dest();
    await intruder.prepare();
    expect(await push(d, delivery(1))).toBeTruthy();
    expect(sim.stats().tokensMinted).toBe(3);
  });

  it("refreshes a minute before expiry instead of waiting for a 401", async () => {
    sim = await vanta.start();
    const { dest: d, clock } = dest();
    await d.prepare();
    clock.now += 3600_000 - 59_000;
    await d.find(delivery(1).correlation);
    expect(sim.stats().tokensMinted).toBe(2);
    expect(sim.stats().unauthorized).toBeUndefined();
  });

  it("a token the server expired early gets one re-mint on the 401, then the request succeeds", async () => {
    sim = await vanta.start();
    const { dest: d } = dest();
    await d.prepare();
    sim.state.active!.expiresAt = Date.now() - 1;
    expect(await d.find(delivery(1).correlation)).toBeNull();
    expect(sim.stats()).toMatchObject({ tokensMinted: 2, unauthorized: 1 });
  });

  it("a short-lived token is refreshed halfway through its life, not before every request", async () => {
    sim = await vanta.start({}, { tokenTtlSeconds: 30 });
    const { dest: d, clock } = dest();
    await d.prepare();
    for (let i = 0; i < 5; i++) await d.find(delivery(i).correlation);
    expect(sim.stats().tokensMinted).toBe(1);
    clock.now += 15_000;
    await d.find(delivery(9).correlation);
    expect(sim.stats().tokensMinted).toBe(2);
  });

  it("never asks for more than the configured tokens per minute; it waits instead", async () => {
    sim = await vanta.start({}, { tokenRequestsPerMinute: 100 });
    const { dest: d, clock } = dest({ tokenRequestsPerMinute: 5 });
    for (let i = 0; i < 11; i++) {
      sim.revokeTokens();
      await d.find(delivery(i).correlation);
    }
    expect(sim.stats().tokensMinted).toBe(11);
    // The fake clock stands still between mints: mints 6 and 11 each waited a full minute.
    expect(clock.waits).toEqual([60_001, 60_001]);
  });

  it("waits out the token endpoint's 429 with Retry-After and then succeeds", async () => {
    sim = await vanta.start({ retryAfterSeconds: 3 });
    const { dest: d, clock } = dest();
    sim.setFaults({ burst429: 2 });
    await d.prepare();
    expect(clock.waits.slice(0, 2)).toEqual([3000, 3000]);
    expect(sim.stats()["429"]).toBe(2);
  });

  it("a wrong client secret is a config error that names the fix and never the secret", async () => {
    sim = await vanta.start();
    const logs = captureLogs();
    const wrong = "vcs_wrong-secret-value-123";
    // Same app id, wrong secret.
    const bad = new VantaDestination(
      "vanta-test",
      VantaConfig.parse({ url: sim.url, auth: { clientId: sim.credentials.clientId, clientSecret: "${S}" } }),
      VantaTarget.parse({}),
      { env: { S: wrong }, logger: logs.logger },
    );
    vanta.closeAfter(() => bad.close());
    const err = await bad.prepare().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SealgateError);
    expect((err as SealgateError).code).toBe("VANTA_AUTH_FAILED");
    expect(exitCodeOf(err)).toBe(2);
    expect((err as Error).message).toMatch(/401 invalid_client.*auth\.clientId.*auth\.clientSecret/);
    expect(JSON.stringify({ m: (err as Error).message, c: String((err as Error).cause) })).not.toContain(
      wrong,
    );
    expect(logs.lines.join("\n")).not.toContain(wrong);
    expect(sim.stats().tokensMinted).toBeUndefined();
  });

  it("an unknown scope is reported against target.scope", async () => {
    sim = await vanta.start();
    const { dest: d } = dest({}, { scope: "vanta-api.all:read vanta-api.everything:admin" });
    await expect(d.prepare()).rejects.toMatchObject({
      code: "VANTA_AUTH_FAILED",
      message: expect.stringMatching(/invalid_scope.*target\.scope/),
    });
  });

  it("a token without the upload scope cannot upload: the 403 surfaces as an HTTP error", async () => {
    sim = await vanta.start();
    const { dest: d } = dest({}, { scope: "vanta-api.all:read vanta-api.all:write" });
    await expect(push(d, delivery(1))).rejects.toMatchObject({ code: "HTTP_STATUS", status: 403 });
  });

  it("an unresolvable secret reference names the config path", async () => {
    sim = await vanta.start();
    expect(
      () =>
        new VantaDestination(
          "prod",
          VantaConfig.parse({ auth: { clientId: "x", clientSecret: "${NOT_SET_ANYWHERE}" } }),
          VantaTarget.parse({}),
          { env: {} },
        ),
    ).toThrow(/destinations\.prod\.auth\.clientSecret: environment variable NOT_SET_ANYWHERE is not set/);
  });

  it("logs of a whole push with refreshes hold no token or client secret", async () => {
    sim = await vanta.start({ errorRate: 0.2, burst429: 3 });
    const { dest: d, logs } = dest();
    await push(d, delivery(1));
    sim.revokeTokens();
    await push(d, delivery(2));
    expect(logs.lines.length).toBeGreaterThan(0);
    expect(leakedSecrets(sim, logs.lines)).toEqual([]);
  });
});
