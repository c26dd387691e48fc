import { setTimeout as sleep } from "node:timers/promises";
import { afterEach, describe, expect, it } from "vitest";
import { describeError, SealgateError } from "../../../src/core/errors.js";
import type { ArcherSimulator } from "../simulator/server.js";
import { captureLogger, delivery, destination, digestOf, startSim } from "./helpers.js";

let sim: ArcherSimulator;
afterEach(async () => {
  await sim.close();
});

const logins = (s: ArcherSimulator, prefix = "platformapi") =>
  s.stats()[`POST ${prefix}/core/security/login`] ?? 0;

describe("Archer sessions", () => {
  it("rejects a wrong password with an error naming instance and user, never the password", async () => {
    sim = await startSim();
    const { logger, lines } = captureLogger();
    const dest = destination(sim, { password: "hunter2-not-it", logger });
    const err = await dest.prepare().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SealgateError);
    expect(err).toMatchObject({ code: "ARCHER_LOGIN_FAILED", exitCode: 2 });
    const text = describeError(err);
    expect(text).toContain('instance "SealgateSim"');
    expect(text).toContain('"sealgate-api"');
    expect(text).toMatch(/Invalid credentials/);
    expect(text).not.toContain("hunter2-not-it");
    expect(lines.join("\n")).not.toContain("hunter2-not-it");
    await dest.close();
  });

  it("rejects a wrong instance name the same way", async () => {
    sim = await startSim();
    const dest = destination(sim, { target: { instance: "Production" } });
    await expect(dest.prepare()).rejects.toThrow(/instance "Production".*target\.instance/);
    await dest.close();
  });

  it("names the config path when the password reference cannot be resolved", async () => {
    sim = await startSim();
    expect(() =>
      destination(sim, { config: { auth: { username: "u", password: "${NOT_SET_ANYWHERE}" } } }),
    ).toThrow(/destinations\.archer-test\.auth\.password: environment variable NOT_SET_ANYWHERE is not set/);
  });

  it("logs in once for many concurrent calls and logs out on close", async () => {
    sim = await startSim();
    const dest = destination(sim);
    await Promise.all(Array.from({ length: 8 }, (_, i) => dest.find(digestOf(i))));
    expect(logins(sim)).toBe(1);
    expect(sim.sessions.liveCount).toBe(1);
    await dest.close();
    expect(sim.sessions.liveCount).toBe(0);
    expect(sim.stats()["POST platformapi/core/security/logout"]).toBe(1);
  });

  it("after revocation, concurrent workers share one re-login and every call succeeds", async () => {
    sim = await startSim();
    const dest = destination(sim);
    await dest.create(delivery(100)); // metadata and values lists cached: what follows is 6 parallel POSTs
    expect(logins(sim)).toBe(1);
    sim.revokeTokens();
    const refs = await Promise.all(Array.from({ length: 6 }, (_, i) => dest.create(delivery(i))));
    expect(new Set(refs.map((r) => r.id)).size).toBe(6);
    expect(sim.stats()["POST platformapi/core/content"]).toBe(1 + 6 + 6); // each refused once, then sent again
    expect(logins(sim)).toBe(2);
    expect(sim.stats()["sessions.minted"]).toBe(2);
    expect(sim.records()).toHaveLength(7);
    await dest.close();
  });

  it("logs in again when the session expired while idle", async () => {
    sim = await startSim({ sessionIdleMs: 300 });
    const dest = destination(sim);
    await dest.prepare();
    const before = logins(sim);
    await sleep(600);
    expect(await dest.find(digestOf("x"))).toBeNull();
    expect(logins(sim)).toBe(before + 1);
    await dest.close();
  });

  it("works with the pre-6.5 /api/ prefix, and fails clearly where the prefix is not served", async () => {
    sim = await startSim({ prefixes: ["api"] });
    const old = destination(sim, { target: { apiPrefix: "api" } });
    await old.prepare();
    await old.create(delivery(1));
    expect(logins(sim, "api")).toBe(1);
    await old.close();
    const modern = destination(sim);
    await expect(modern.prepare()).rejects.toThrow(/platformapi\/core\/security\/login answered 404/);
    await modern.close();
  });

  it("sends the session only in the Authorization header, never in a URL", async () => {
    sim = await startSim();
    const { logger, lines } = captureLogger();
    const dest = destination(sim, { logger });
    sim.setFaults({ burst429: 2, retryAfterSeconds: 0 });
    await dest.prepare();
    await dest.create(delivery(1));
    await dest.close();
    const logs = lines.join("\n");
    expect(logs).toContain("retrying HTTP request");
    for (const secret of sim.secrets()) expect(logs).not.toContain(secret);
  });
});
