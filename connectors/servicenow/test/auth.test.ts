import { afterEach, describe, expect, it } from "vitest";
import { describeError, SealgateError } from "../../../src/core/errors.js";
import type { ServiceNowSimulator } from "../simulator/server.js";
import { capturingLogger, delivery, envFor, push, startSim, testDestination } from "./helpers.js";

let sim: ServiceNowSimulator;
afterEach(() => sim?.close());

async function failure(p: Promise<unknown>): Promise<SealgateError> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(SealgateError);
  return err as SealgateError;
}

describe("authentication", () => {
  it.each(["basic", "oauth-password"] as const)("%s auth reaches the Table API", async (auth) => {
    sim = await startSim();
    const dest = testDestination(sim, { auth });
    await push(dest, delivery(1, auth));
    expect(sim.records()).toHaveLength(1);
    expect(sim.stats().tokensMinted ?? 0).toBe(auth === "basic" ? 0 : 1);
    await dest.close();
  });

  it("client credentials work where the instance enables them and fail clearly where not", async () => {
    sim = await startSim({ clientCredentialsEnabled: true });
    const ok = testDestination(sim, { auth: "oauth-client-credentials" });
    await ok.prepare();
    expect(sim.stats()["grant:client_credentials"]).toBe(1);
    await ok.close();
    await sim.close();

    sim = await startSim();
    const off = testDestination(sim, { auth: "oauth-client-credentials" });
    const err = await failure(off.prepare());
    expect(err.code).toBe("SERVICENOW_AUTH_FAILED");
    expect(err.exitCode).toBe(2);
    expect(err.message).toMatch(
      /client_credentials grant for client client-.*client credentials grant is enabled/,
    );
    await off.close();
  });

  it.each(["basic", "oauth-password"] as const)(
    "%s with a wrong password fails with the fix and never the secret",
    async (auth) => {
      sim = await startSim();
      const wrong = "hunter2-wrong-password";
      const { logger, lines } = capturingLogger();
      const dest = testDestination(sim, {
        auth,
        env: { ...envFor(sim), SN_PASSWORD: wrong },
        logger,
      });
      const err = await failure(dest.prepare());
      expect(err.code).toBe("SERVICENOW_AUTH_FAILED");
      expect(err.message).toMatch(/auth\.password/);
      const everything = [describeError(err), JSON.stringify(err), ...lines].join("\n");
      for (const s of [wrong, ...sim.secrets()]) expect(everything).not.toContain(s);
      await dest.close();
    },
  );

  it("an unset secret reference names the config path and the variable", async () => {
    sim = await startSim();
    expect(() => testDestination(sim, { env: {} })).toThrow(
      /auth\.clientSecret: environment variable SN_CLIENT_SECRET/,
    );
  });

  it("renews the access token with the refresh token before it expires", async () => {
    sim = await startSim({ accessTokenSeconds: 1800 });
    let clock = Date.now();
    const dest = testDestination(sim, { now: () => clock });
    await dest.prepare();
    clock += 1800_000 - 30_000; // inside the refresh margin, still valid on the server
    await push(dest, delivery(2, "renew"));
    const stats = sim.stats();
    expect(stats["grant:password"]).toBe(1);
    expect(stats["grant:refresh_token"]).toBe(1);
    expect(stats["401"] ?? 0).toBe(0);
    await dest.close();
  });

  it("an access token expired on the server is refreshed once on 401 and the call repeated", async () => {
    sim = await startSim();
    const dest = testDestination(sim);
    await dest.prepare();
    for (const t of sim.state.tokens.values()) if (t.kind === "access") t.expiresAt = 0;
    await push(dest, delivery(3, "expired"));
    expect(sim.stats()["401"]).toBe(1);
    expect(sim.stats()["grant:refresh_token"]).toBe(1);
    expect(sim.records()).toHaveLength(1);
    await dest.close();
  });

  it("after revocation of every token the refresh fails and a new password grant is made", async () => {
    sim = await startSim();
    const dest = testDestination(sim);
    await dest.prepare();
    sim.revokeTokens();
    await push(dest, delivery(4, "revoked"));
    const stats = sim.stats();
    expect(stats["401"]).toBe(1);
    expect(stats["grant:refresh_token"] ?? 0).toBe(0);
    expect(stats["grant:password"]).toBe(2);
    await dest.close();
  });

  it("concurrent workers share one token (minting is single-flight)", async () => {
    sim = await startSim();
    const dest = testDestination(sim);
    await Promise.all(Array.from({ length: 12 }, (_, i) => dest.find(delivery(i, "race").correlation)));
    expect(sim.stats().tokensMinted).toBe(1);
    await dest.close();
  });

  it("a token refused right after minting is an auth error, not a loop", async () => {
    sim = await startSim();
    const dest = testDestination(sim);
    await dest.prepare();
    const tokens = sim.state.tokens;
    // Every token the instance issues from now on is dead on arrival.
    const set = tokens.set.bind(tokens);
    tokens.set = (k, v) => set(k, v.kind === "access" ? { ...v, expiresAt: 0 } : v);
    for (const t of tokens.values()) if (t.kind === "access") t.expiresAt = 0;
    const err = await failure(dest.find(delivery(5).correlation));
    expect(err.code).toBe("SERVICENOW_AUTH_FAILED");
    expect(sim.stats()["401"]).toBe(2);
    await dest.close();
  });
});
