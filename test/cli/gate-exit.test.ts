import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, inject, it } from "vitest";
import { cli } from "../support/cli.js";
import { devPki } from "../support/pki.js";

/*
 * A pipeline reads the gate's exit code: 1 means "do not ship", 3 means "the gate could not
 * decide" and is often retried or escalated as an outage. A model or version MLflow does not
 * have is a plain denial with the reason; a version that is not a number is a usage error.
 */

async function gateConfig(trackingUri: string) {
  const { pki } = await devPki();
  const dir = await mkdtemp(join(tmpdir(), "sealgate-gate-exit-"));
  const cfg = join(dir, "sealgate.yaml");
  await writeFile(
    cfg,
    `mlflow:\n  trackingUri: ${trackingUri}\n  auth: { type: none }\nstore: { path: store }\ntrust: { anchors: ${pki.trust.anchors}, intermediates: ${pki.trust.intermediates} }\n`,
  );
  return cfg;
}

describe("gate exit codes", () => {
  it.each([["gate"], ["promote"]])("%s --version abc is a usage error (2)", async (command) => {
    // Nothing listens here: the version is refused before MLflow is asked.
    const cfg = await gateConfig("http://127.0.0.1:9");
    const args = [command, "--config", cfg, "--model", "credit-risk", "--version", "abc"];
    const r = await cli(command === "promote" ? [...args, "--alias", "production"] : args);
    expect(r.code).toBe(2);
    expect(r.err).toContain("--version abc: expected a model version number");
  });

  it("denies (1) a model or version MLflow does not have, with the reason", async () => {
    const cfg = await gateConfig(inject("mlflow").url);
    const cases = [
      ["no-such-model-for-the-gate", "1"],
      ["credit-risk", "9999"],
    ];
    for (const [model, version] of cases) {
      const r = await cli(["gate", "--config", cfg, "--model", model!, "--version", version!]);
      expect({ model, code: r.code, err: r.err }).toEqual({ model, code: 1, err: "" });
      expect(r.out).toContain(`DENY ${model} v${version}`);
      expect(r.out).toContain(`✗ NOT_SEALED: ${model} v${version} does not exist in MLflow:`);
      const json = await cli(["gate", "--config", cfg, "--model", model!, "--version", version!, "--json"]);
      expect(JSON.parse(json.out)).toMatchObject({
        allowed: false,
        findings: [{ code: "NOT_SEALED", step: "policy", where: {} }],
      });
    }
  });
});
