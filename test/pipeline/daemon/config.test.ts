import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadConfig, parseConfig } from "../../../src/app/config/load.js";
import { cli } from "../../support/cli.js";

const base = { mlflow: { trackingUri: "http://127.0.0.1:5000" } };

describe("daemon config", () => {
  it("fills every default from one place when the section is absent or partial", () => {
    const c = parseConfig(base, "t.yaml").daemon;
    expect(c.listen).toEqual({ host: "127.0.0.1", port: 9464 });
    expect(c.jobs.sync).toEqual({ schedule: "*/5 * * * *", jitterSeconds: 0 });
    expect(c.jobs.push.schedule).toBe("* * * * *");
    expect(c.jobs.verify.schedule).toBe("0 * * * *");
    expect(c.jobs.checkpoint.schedule).toBe("*/15 * * * *");
    expect(c.webhook).toBeUndefined();
    expect(c.http).toEqual({});
    expect(c.allowInsecureBind).toBe(false);
    const partial = parseConfig(
      { ...base, daemon: { jobs: { push: { jitterSeconds: 5 } }, webhook: { secret: "${HOOK_SECRET}" } } },
      "t.yaml",
    ).daemon;
    expect(partial.jobs.push).toEqual({ schedule: "* * * * *", jitterSeconds: 5 });
    expect(partial.webhook).toEqual({
      secret: "${HOOK_SECRET}",
      path: "/hooks/mlflow",
      toleranceSeconds: 300,
    });
  });

  it.each([
    ["*/5 * * *", "daemon.jobs.sync.schedule"],
    ["61 * * * *", "daemon.jobs.sync.schedule"],
    ["every five minutes", "daemon.jobs.sync.schedule"],
  ])("rejects the cron expression %j, naming %s", (schedule, path) => {
    expect(() => parseConfig({ ...base, daemon: { jobs: { sync: { schedule } } } }, "t.yaml")).toThrow(
      new RegExp(`${path.replace(/\./g, "\\.")}: not a valid cron expression`),
    );
  });

  it("rejects a literal secret, a typo, a half TLS pair and a port out of range, naming each path", () => {
    const bad = [
      [{ webhook: { secret: "hunter2hunter2" } }, "daemon.webhook.secret"],
      [{ http: { accessToken: "hunter2hunter2" } }, "daemon.http.accessToken"],
      [{ http: { tls: { cert: "srv.pem" } } }, "daemon.http.tls.key"],
      [{ allowInsecureBind: "yes" }, "daemon.allowInsecureBind"],
      [{ jobs: { sycn: {} } }, "daemon.jobs"],
      [{ listen: { port: 70000 } }, "daemon.listen.port"],
      [{ shutdownGrace: 5 }, "daemon"],
    ] as const;
    for (const [daemon, path] of bad) {
      let message = "";
      try {
        parseConfig({ ...base, daemon }, "t.yaml");
      } catch (err) {
        message = (err as Error).message;
      }
      expect(message, JSON.stringify(daemon)).toContain(`  ${path}:`);
      expect(message).not.toContain("hunter2hunter2");
    }
  });

  it("`sealgate daemon` with an invalid cron expression exits 2 naming the path", async () => {
    const dir = await mkdtemp(join(tmpdir(), "sealgate-daemon-cfg-"));
    const cfg = join(dir, "sealgate.yaml");
    await writeFile(
      cfg,
      "mlflow: { trackingUri: 'http://127.0.0.1:1' }\ndaemon:\n  jobs:\n    verify: { schedule: '0 25 * * *' }\n",
    );
    await expect(loadConfig(cfg)).rejects.toThrow(/daemon\.jobs\.verify\.schedule/);
    const r = await cli(["daemon", "--config", cfg]);
    expect(r.code).toBe(2);
    expect(r.err).toContain("daemon.jobs.verify.schedule: not a valid cron expression");
  });

  it("`sealgate daemon --help` shows an example", async () => {
    const r = await cli(["daemon", "--help"]);
    expect(r.code).toBe(0);
    expect(r.out).toContain("$ sealgate daemon --config");
  });
});
