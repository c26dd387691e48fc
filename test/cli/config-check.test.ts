import { mkdir, mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { cli } from "../support/cli.js";

/*
 * `config check` is the admin's dry run of the daemon's start: whatever the daemon would refuse
 * (a store it cannot create, a webhook secret that does not resolve, a destination that does
 * not load) fails here first, named; a policy whose chains nobody can complete today is a
 * warning.
 */

const MLFLOW = 'mlflow: { trackingUri: "http://127.0.0.1:5000", auth: { type: none } }\n';

interface Checks {
  ok: boolean;
  checks: { check: string; ok: boolean; detail: string; warning?: boolean }[];
}

describe("config check", async () => {
  const dir = await mkdtemp(join(tmpdir(), "sealgate-config-check-"));
  let n = 0;
  /** Write a config (MLflow section first) and run `config check` on it. */
  const check = async (yaml: string, env: NodeJS.ProcessEnv = {}) => {
    const cfg = join(dir, `sealgate-${n++}.yaml`);
    await writeFile(cfg, MLFLOW + yaml);
    const text = await cli(["config", "check", "--config", cfg], env);
    const jsonOut = (await cli(["config", "check", "--config", cfg, "--json"], env)).out;
    // An invalid config file stops before any check: nothing on stdout, every issue on stderr.
    const json = (jsonOut ? JSON.parse(jsonOut) : { ok: false, checks: [] }) as Checks;
    return { ...text, json, find: (name: string) => json.checks.find((c) => c.check === name) };
  };

  it("says whether the store path is writable or can be created", async () => {
    await mkdir(join(dir, "existing-store"));
    await writeFile(join(dir, "a-file"), "not a directory\n");
    const existing = await check("store: { path: existing-store }\n");
    expect(existing.code).toBe(0);
    expect(existing.out).toContain(`✓ store: ${join(dir, "existing-store")} is writable`);
    const missing = await check("store: { path: new/store }\n");
    expect(missing.code).toBe(0);
    expect(missing.out).toContain(
      `✓ store: ${join(dir, "new/store")} does not exist yet; it can be created in ${dir}`,
    );

    const file = await check("store: { path: a-file }\n");
    expect(file.code).toBe(2);
    expect(file.out).toContain(`✗ store: store.path ${join(dir, "a-file")} is a file, not a directory`);
    const under = await check("store: { path: a-file/store }\n");
    expect(under.code).toBe(2);
    expect(under.out).toContain(
      `✗ store: store.path ${join(dir, "a-file/store")} is under ${join(dir, "a-file")}, which is a file; fix store.path`,
    );
    expect(under.out).not.toContain("ENOTDIR");
  });

  it("refuses a non-loopback daemon bind without TLS and a token, as the daemon would", async () => {
    const local = await check("");
    expect(local.code).toBe(0);
    expect(local.find("daemon http")).toMatchObject({
      ok: true,
      detail: "127.0.0.1: plain HTTP with no access token",
    });
    const open = await check("daemon: { listen: { host: 0.0.0.0, port: 9464 } }\n");
    expect(open.code).toBe(2);
    expect(open.find("daemon http")?.ok).toBe(false);
    expect(open.out).toMatch(
      /✗ daemon http: daemon\.listen\.host: 0\.0\.0\.0 is not a loopback address.*daemon\.allowInsecureBind/,
    );
    const allowed = await check(
      "daemon: { listen: { host: 0.0.0.0, port: 9464 }, allowInsecureBind: true }\n",
    );
    expect(allowed.code).toBe(0);
    expect(allowed.find("daemon http")).toMatchObject({ ok: true, warning: true });
    expect(allowed.out).toContain(
      "! daemon http: 0.0.0.0 is served without daemon.http.tls and daemon.http.accessToken",
    );
  });

  it("warns (exit 0) that sync and the daemon need the sections a config leaves out", async () => {
    const r = await check("store: { path: existing-store }\n");
    expect(r.code).toBe(0);
    expect(r.out).toContain("! daemon: sync and the daemon also need policy, trust, sealing;");
    expect(r.find("daemon")).toMatchObject({ ok: true, warning: true });
  });

  it("resolves daemon.webhook.secret, and never prints it", async () => {
    const yaml = 'daemon: { webhook: { secret: "${SEALGATE_TEST_HOOK_SECRET}" } }\n';
    const unset = await check(yaml);
    expect(unset.code).toBe(2);
    expect(unset.out).toContain(
      "✗ webhook secret: daemon.webhook.secret: environment variable SEALGATE_TEST_HOOK_SECRET is not set",
    );
    const set = await check(yaml, { SEALGATE_TEST_HOOK_SECRET: "canary-hook-secret-4711" });
    expect(set.code).toBe(0);
    expect(set.out).toContain("✓ webhook secret: daemon.webhook.secret resolves");
    expect(set.out + JSON.stringify(set.json)).not.toContain("canary-hook-secret-4711");
  });

  it("warns (exit 0) about chain roles with no approver valid today, and lists them", async () => {
    const approver = (name: string, role: string, dates: string) =>
      `  - { name: ${name}, roles: [${role}], subject: "CN=${name}", issuer: "CN=CA", ${dates} }\n`;
    await writeFile(
      join(dir, "policy.yaml"),
      'version: "1"\neffectiveFrom: "2026-01-01T00:00:00Z"\ndefaultTier: low\n' +
        "tiers:\n  low: { chain: [on-call] }\n  material: { chain: [on-call, data-governance, model-risk] }\n" +
        "approvers:\n" +
        approver("Ada", "on-call", 'effectiveFrom: "2020-01-01T00:00:00Z"') +
        approver(
          "Old",
          "data-governance",
          'effectiveFrom: "2020-01-01T00:00:00Z", effectiveUntil: "2021-01-01T00:00:00Z"',
        ) +
        approver("Later", "model-risk", 'effectiveFrom: "2999-01-01T00:00:00Z"'),
    );
    const r = await check("policy: policy.yaml\n");
    expect(r.code).toBe(0);
    expect(r.out).toMatch(
      /^! approvers: no approver registered and valid today for tier material: data-governance, model-risk;/m,
    );
    expect(r.find("approvers")).toMatchObject({ ok: true, warning: true });
    expect(r.json.ok).toBe(true);

    await writeFile(
      join(dir, "covered.yaml"),
      'version: "1"\neffectiveFrom: "2026-01-01T00:00:00Z"\ndefaultTier: low\ntiers:\n  low: { chain: [on-call] }\napprovers:\n' +
        approver("Ada", "on-call", 'effectiveFrom: "2020-01-01T00:00:00Z"'),
    );
    const covered = await check("policy: covered.yaml\n");
    expect(covered.out).toContain(
      "✓ approvers: every role of every tier's chain has an approver valid today",
    );
  });

  it("names the destination whose credentials or mapping do not load", async () => {
    const r = await check(
      "destinations:\n" +
        '  snow-prod:\n    kind: servicenow\n    url: https://x.example.com\n    auth: { type: basic, username: u, password: "${SEALGATE_TEST_UNSET_SNOW}" }\n' +
        "  vanta:\n    kind: vanta\n    mapping: no-such-mapping.yaml\n    auth: { clientId: vci_1, clientSecret: file:/dev/null }\n",
    );
    expect(r.code).toBe(2);
    expect(r.out).toContain(
      "✗ destinations.snow-prod: auth.password: environment variable SEALGATE_TEST_UNSET_SNOW is not set",
    );
    expect(r.out).toContain(
      `✗ destinations.vanta: mapping ${join(dir, "no-such-mapping.yaml")} does not exist`,
    );
  });

  it("suggests the nearest known key for a misspelt one", async () => {
    const r = await check("stroe: { path: store }\ndaemon: { listen: { prot: 9464 } }\n");
    expect(r.code).toBe(2);
    expect(r.err).toContain('(top level): Unrecognized key "stroe"; did you mean "store"?');
    expect(r.err).toContain('daemon.listen: Unrecognized key "prot"; did you mean "port"?');
  });
});
