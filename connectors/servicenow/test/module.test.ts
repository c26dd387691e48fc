import { existsSync } from "node:fs";
import { describe, expect, it, vi } from "vitest";
import { servicenow } from "../index.js";
import { servicenowSimulator } from "../simulator/index.js";

const auth = { type: "basic", username: "svc", password: "${SN_PASSWORD}" };

function problems(input: unknown): string[] {
  const r = servicenow.config.safeParse(input);
  return r.success ? [] : r.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`);
}

describe("the ServiceNow connector module", () => {
  it("parses a minimal config with its defaults", () => {
    const config = servicenow.config.parse({ url: "https://acme.service-now.com", auth });
    expect(config).toMatchObject({
      timeoutMs: 30_000,
      retries: 4,
      tokenRefreshSkewSeconds: 60,
      pageSize: 100,
    });
    expect(servicenow.target.parse({})).toEqual({
      table: "sn_grc_ai_gov_ai_system_task",
      correlationField: "correlation_id",
      inputDisplayValue: false,
    });
  });

  it.each([
    [{ url: "http://acme.service-now.com", auth }, /url: must be the instance's https:\/\/ URL/],
    [{ url: "https://svc:pw@acme.service-now.com", auth }, /url: must not hold credentials/],
    [
      { url: "https://acme.service-now.com", auth: { ...auth, password: "hunter2" } },
      /auth.password: secrets are references/,
    ],
    [{ url: "https://acme.service-now.com", auth, verify: false }, /Unrecognized key: "verify"/],
    [
      { url: "https://acme.service-now.com", auth: { type: "oauth-password", clientId: "c" } },
      /auth.clientSecret/,
    ],
  ])("rejects %j naming the field", (input, message) => {
    expect(problems(input).join("\n")).toMatch(message);
  });

  it("accepts plain http only on loopback (the simulator)", () => {
    expect(problems({ url: "http://127.0.0.1:8080", auth })).toEqual([]);
    expect(problems({ url: "http://localhost:8080/", auth })).toEqual([]);
  });

  it("rejects a target column name that is not a ServiceNow element", () => {
    expect(servicenow.target.safeParse({ correlationField: "correlation_id^ORDERBYsys_id" }).success).toBe(
      false,
    );
    expect(servicenow.target.safeParse({ table: "Incident" }).success).toBe(false);
  });

  it("declares its secret paths and ships its default mapping", () => {
    expect(servicenow.secretPaths).toEqual(["auth.password", "auth.clientSecret"]);
    expect(existsSync(servicenow.defaultMappingPath)).toBe(true);
    expect(servicenow.queueDefaults.concurrency).toBeGreaterThan(0);
  });

  it("its simulator starts a server, prints nothing and returns a handle that closes", async () => {
    const out = vi.spyOn(process.stdout, "write");
    const err = vi.spyOn(process.stderr, "write");
    const sim = await servicenowSimulator.start({ port: 0 });
    expect(sim.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const { type, ...literal } = sim.credentials;
    expect(Object.keys(literal).sort()).toEqual(["clientId", "clientSecret", "password", "username"]);
    // With each secret path turned into a reference, the credentials are a valid auth section.
    const env = { SN_PW: literal.password!, SN_CS: literal.clientSecret! };
    const auth = { type, ...literal, password: "${SN_PW}", clientSecret: "${SN_CS}" };
    expect(servicenow.config.safeParse({ url: sim.url, auth }).success).toBe(true);
    expect(Object.values(env).every((v) => sim.secrets().includes(v))).toBe(true);
    const res = await fetch(`${sim.url}/api/now/table/task`);
    expect(res.status).toBe(401);
    await sim.close();
    expect(out).not.toHaveBeenCalled();
    expect(err).not.toHaveBeenCalled();
    out.mockRestore();
    err.mockRestore();
  });

  it("its simulator on a port in use fails with a usage error instead of hanging", async () => {
    const first = await servicenowSimulator.start({});
    const port = Number(new URL(first.url).port);
    await expect(servicenowSimulator.start({ port })).rejects.toThrow(
      /cannot listen on 127\.0\.0\.1:\d+ \(EADDRINUSE\)/,
    );
    await first.close();
  });
});
