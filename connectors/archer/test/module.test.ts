import { existsSync } from "node:fs";
import { afterEach, describe, expect, it, vi } from "vitest";
import pino from "pino";
import { archer } from "../index.js";
import { archerSimulator } from "../simulator/index.js";

describe("the Archer connector module", () => {
  afterEach(() => {
    vi.restoreAllMocks();
    vi.unstubAllEnvs();
  });

  it("parses a minimal config with the documented defaults", () => {
    const config = archer.config.parse({
      url: "https://grc.example.com/Archer",
      auth: { username: "svc", password: "${ARCHER_PW}" },
    });
    expect(config).toEqual({
      url: "https://grc.example.com/Archer",
      auth: { username: "svc", userDomain: "", password: "${ARCHER_PW}" },
      timeoutMs: 30_000,
      bodyTimeoutMs: 120_000,
      pageSize: 250,
    });
    expect(archer.secretPaths).toEqual(["auth.password"]);
    expect(archer.queueDefaults).toEqual({ concurrency: 4, perMinute: 600 });
    expect(existsSync(archer.defaultMappingPath)).toBe(true);
  });

  it("rejects literal passwords, credentials in the URL and unknown keys, naming the path", () => {
    const issues = (input: unknown) => {
      const r = archer.config.safeParse(input);
      return r.success ? [] : r.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`);
    };
    expect(issues({ url: "https://g.example", auth: { username: "u", password: "hunter2" } })).toEqual([
      expect.stringMatching(/^auth\.password: secrets are references/),
    ]);
    expect(issues({ url: "https://u:p@g.example", auth: { username: "u", password: "${P}" } })[0]).toMatch(
      /^url: must not hold credentials/,
    );
    expect(
      issues({ url: "https://g.example", auth: { username: "u", password: "${P}" }, verifyTls: false })[0],
    ).toMatch(/verifyTls/);
    expect(
      archer.target.safeParse({
        instance: "I",
        application: "A",
        correlationField: "C",
        attachmentField: "F",
        apiPrefix: "rest",
      }).success,
    ).toBe(false);
  });

  it("names the config path of an unreadable CA bundle", () => {
    const config = archer.config.parse({
      url: "https://grc.example.com/Archer",
      auth: { username: "svc", password: "${ARCHER_PW}" },
      ca: "/nonexistent/ca.pem",
    });
    const target = archer.target.parse({
      instance: "I",
      application: "A",
      correlationField: "C",
      attachmentField: "F",
    });
    const create = () => archer.create("grc", config, target, { logger: pino({ level: "silent" }) });
    expect(create).toThrow(/destinations\.grc\.auth\.password: environment variable ARCHER_PW is not set/);
    vi.stubEnv("ARCHER_PW", "from-env");
    expect(create).toThrow(/destinations\.grc\.ca: cannot read \/nonexistent\/ca\.pem/);
  });

  it("its simulator starts a server without printing anything and returns the handle", async () => {
    const out = vi.spyOn(process.stdout, "write");
    const handle = await archerSimulator.start({ port: 0, faults: { latencyMs: 1 } });
    expect(handle.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/Archer$/);
    expect(Object.keys(handle.credentials).sort()).toEqual(["instance", "password", "username"]);
    expect(handle.records()).toEqual([]);
    await handle.close();
    expect(out).not.toHaveBeenCalled();
  });
});
