import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, inject, it } from "vitest";
import { cli } from "../support/cli.js";

describe("sealgate mlflow ls", () => {
  const url = () => inject("mlflow").url;

  it("prints models, versions, aliases and tags as JSON for scripts", async () => {
    const r = await cli(["mlflow", "ls", "--tracking-uri", url(), "--model", "credit-*", "--json"]);
    expect(r.code).toBe(0);
    const { models } = JSON.parse(r.out);
    expect(models.map((m: { name: string }) => m.name)).toEqual(["credit-risk"]);
    const [credit] = models;
    expect(credit.aliases).toMatchObject({ champion: "1", challenger: "3" });
    expect(credit.versions.map((v: { version: string }) => v.version)).toEqual(["3", "2", "1"]);
    expect(credit.versions[0]).toMatchObject({
      aliases: ["challenger"],
      tags: { validation_status: "pending" },
    });
  });

  it("prints a readable table, newest versions first, and says how many are hidden", async () => {
    const r = await cli(["mlflow", "ls", "--model", "churn"], { MLFLOW_TRACKING_URI: url() });
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^churn {2}\(\d+ versions\) {2}challenger→v\d+, champion→v\d+/);
    expect(r.out).toContain("VERSION");
    expect(r.out).toMatch(/… \d+ older versions \(use --all or --json\)/);
  });

  it("takes the server from a config file and rejects an unknown key with its path", async () => {
    const dir = await mkdtemp(join(tmpdir(), "sealgate-cli-"));
    const good = join(dir, "good.yaml");
    await writeFile(
      good,
      `mlflow:\n  trackingUri: ${url()}\n  auth: { type: none }\n  models: [fraud-detector]\n`,
    );
    const ok = await cli(["mlflow", "ls", "--config", good, "--json"]);
    expect(ok.code).toBe(0);
    expect(JSON.parse(ok.out).models.map((m: { name: string }) => m.name)).toEqual(["fraud-detector"]);
    const bad = join(dir, "bad.yaml");
    await writeFile(bad, `mlflow:\n  trackingUri: ${url()}\n  pageSise: 10\n`);
    const r = await cli(["mlflow", "ls", "--config", bad]);
    expect(r.code).toBe(2);
    expect(r.err).toContain("mlflow: Unrecognized key");
    expect(r.err).toContain("pageSise");
  });

  it("exits 2 with the fix when no server is given, and 3 when the server is unreachable", async () => {
    const none = await cli(["mlflow", "ls"]);
    expect(none.code).toBe(2);
    expect(none.err).toContain("pass --tracking-uri URL");
    const down = await cli(["mlflow", "ls", "--tracking-uri", "http://127.0.0.1:9"]);
    expect(down.code).toBe(3);
    expect(down.err).toContain("ECONNREFUSED");
  });

  it("has --help with an example, and exits 2 on an unknown option", async () => {
    const help = await cli(["mlflow", "ls", "--help"]);
    expect(help.code).toBe(0);
    expect(help.out).toContain("$ sealgate mlflow ls");
    expect((await cli(["mlflow", "ls", "--bogus"])).code).toBe(2);
  });
});
