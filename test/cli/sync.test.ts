import { spawn } from "node:child_process";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { servicenow } from "../../connectors/servicenow/index.js";
import { servicenowSimulator } from "../../connectors/servicenow/simulator/index.js";
import { REPO_ROOT } from "../../src/dev/venv.js";
import { cli } from "../support/cli.js";
import { cloneModel, workspace } from "../support/workflow.js";

/*
 * The operator's commands on the real MLflow server and the ServiceNow simulator: one sync
 * seals what is ready, checkpoints it and delivers it once; config check judges the config
 * (and, with --remote, the live target's metadata); init writes a config that passes the check;
 * simulate serves a vendor API for dry runs.
 */

describe("sealgate sync, config check, init and simulate", () => {
  it("seals a completed cycle, checkpoints and delivers it exactly once; a second sync changes nothing", async () => {
    const sim = await servicenowSimulator.start({});
    process.env.SEALGATE_TEST_SNOW_SECRET = sim.credentials.clientSecret;
    process.env.SEALGATE_TEST_SNOW_PASSWORD = sim.credentials.password;
    const destinations = `destinations:\n  snow:\n    kind: servicenow\n    url: ${sim.url}\n    auth: { type: oauth-password, clientId: ${sim.credentials.clientId}, clientSecret: "\${SEALGATE_TEST_SNOW_SECRET}", username: ${sim.credentials.username}, password: "\${SEALGATE_TEST_SNOW_PASSWORD}" }\n`;
    // Its sync must see only its own model: other tests' approved copies are not its to seal.
    const own = `copy-credit-risk-sync-${Math.random().toString(36).slice(2, 8)}`;
    const w = await workspace({ extraConfig: destinations, models: [own] });
    await w.deps.ledger.close(); // sync takes the ledger's single-writer lock itself
    try {
      const name = await cloneModel(w.client, "credit-risk", ["1", "2"], "1", own);
      await w.review(name, "2");
      expect((await w.approve(name, "2", "on-call", "ada.lovelace@example.org")).err).toBe("");

      const check = await cli(["config", "check", "--config", w.cfg, "--remote", "--json"], process.env);
      expect(
        JSON.parse(check.out).checks.map((c: { check: string; ok: boolean }) => [c.check, c.ok]),
      ).toEqual([
        ["config", true],
        ["store", true],
        ["policy", true],
        ["approvers", true],
        ["trust", true],
        ["sealing key", true],
        ["daemon http", true],
        ["destinations.snow", true],
        ["mlflow", true],
        ["destination snow", true],
      ]);
      expect(check.code).toBe(0);

      const first = await w.run(["sync", "--json"]);
      expect(first.err).toBe("");
      expect(first.code).toBe(0);
      const report = JSON.parse(first.out);
      expect(report.sealed).toBe(1);
      expect(report.outcomes).toContainEqual(
        expect.objectContaining({ model: name, version: "2", outcome: "sealed" }),
      );
      expect(report.deliveries.snow).toMatchObject({ delivered: 1, failed: 0 });
      const record = report.outcomes.find((o: { outcome: string }) => o.outcome === "sealed").detail;
      expect(sim.records().filter((r) => r.correlation === record)).toHaveLength(1);

      const second = JSON.parse((await w.run(["sync", "--json"])).out);
      expect(second.sealed).toBe(0);
      expect(second.deliveries.snow.delivered).toBe(0);
      expect(sim.records().filter((r) => r.correlation === record)).toHaveLength(1);
      const status = JSON.parse((await w.run(["status", "--json"])).out);
      expect(JSON.stringify(status)).toContain("delivered");
    } finally {
      await w.client.close();
      await sim.close();
    }
  });

  it("config check names a mapping field the live target does not have (exit 2)", async () => {
    const sim = await servicenowSimulator.start({});
    process.env.SEALGATE_TEST_SNOW_SECRET = sim.credentials.clientSecret;
    process.env.SEALGATE_TEST_SNOW_PASSWORD = sim.credentials.password;
    const mapping = (await readFile(servicenow.defaultMappingPath, "utf8")).replace(
      /^fields:\n/m,
      'fields:\n  u_no_such_column: "{{digest}}"\n',
    );
    const w = await workspace({
      extraConfig: `destinations:\n  snow:\n    kind: servicenow\n    url: ${sim.url}\n    mapping: mapping.yaml\n    auth: { type: oauth-password, clientId: ${sim.credentials.clientId}, clientSecret: "\${SEALGATE_TEST_SNOW_SECRET}", username: ${sim.credentials.username}, password: "\${SEALGATE_TEST_SNOW_PASSWORD}" }\n`,
    });
    try {
      await import("node:fs/promises").then((fs) => fs.writeFile(join(w.dir, "mapping.yaml"), mapping));
      const check = await cli(["config", "check", "--config", w.cfg, "--remote"], process.env);
      expect(check.code).toBe(2);
      expect(check.out).toMatch(/✗ destination snow: .*\n.*fields\.u_no_such_column: unknown-field/);
    } finally {
      await w.close();
      await sim.close();
    }
  });

  it("init writes a config and policy that pass config check, and never overwrites them", async () => {
    const w = await workspace();
    try {
      const dir = join(w.dir, "fresh");
      const pkiDir = join(w.pki.sealing.key, "..");
      expect((await cli(["init", "--dir", dir, "--pki", pkiDir])).code).toBe(0);
      const check = await cli(["config", "check", "--config", join(dir, "sealgate.yaml")]);
      expect(check.out).toContain("✓ sealing key: CN=sealgate evidence sealing");
      expect(check.code).toBe(0);
      const again = await cli(["init", "--dir", dir]);
      expect(again.code).toBe(2);
      expect(again.err).toContain("never overwrites");
    } finally {
      await w.close();
    }
  });

  it("simulate serves a vendor API until stopped", async () => {
    // Runs the built CLI (npm test builds dist/ before vitest), as an admin would.
    const child = spawn(
      process.execPath,
      [join(REPO_ROOT, "dist/src/cli/main.js"), "simulate", "vanta", "--json"],
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    const line = await new Promise<string>((resolve) =>
      child.stdout.once("data", (d: Buffer) => resolve(d.toString())),
    );
    const { url } = JSON.parse(line) as { url: string };
    const res = await fetch(`${url}/v1/documents`);
    expect(res.status).toBe(401); // a real endpoint: it wants a token
    child.kill("SIGTERM");
    expect(await new Promise((resolve) => child.once("exit", resolve))).toBe(0);
  });
});
