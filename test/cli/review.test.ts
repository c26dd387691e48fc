import { copyFile, mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, inject, it } from "vitest";
import { MlflowClient } from "../../connectors/mlflow/client.js";
import { MlflowConfig } from "../../connectors/mlflow/config.js";
import { REPO_ROOT } from "../../src/dev/venv.js";
import { FsObjectStore } from "../../src/evidence/store/fs-store.js";
import { cli } from "../support/cli.js";

describe("sealgate review", () => {
  it("stores the package and its PDF, and shows the digest and state in MLflow", async () => {
    const dir = await mkdtemp(join(tmpdir(), "sealgate-review-cli-"));
    await copyFile(join(REPO_ROOT, "config/policy.example.yaml"), join(dir, "policy.yaml"));
    await writeFile(
      join(dir, "sealgate.yaml"),
      `mlflow:\n  trackingUri: ${inject("mlflow").url}\n  auth: { type: none }\nstore:\n  path: store\npolicy: policy.yaml\n`,
    );
    await writeFile(
      join(dir, "request.yaml"),
      "justification: Quarterly retrain on fresh data.\nscope: retail lending, EU\nintendedDeployment: nightly batch scoring\nknownLimitations: none new\n",
    );
    const r = await cli([
      "review",
      "--config",
      join(dir, "sealgate.yaml"),
      "--model",
      "credit-risk",
      "--version",
      "2",
      "--request",
      join(dir, "request.yaml"),
      "--json",
    ]);
    expect(r.err).toBe("");
    expect(r.code).toBe(0);
    const summary = JSON.parse(r.out);
    expect(summary.package).toMatch(/^sha256:[0-9a-f]{64}$/);
    const store = new FsObjectStore(join(dir, "store"));
    expect(
      Buffer.from(await store.get(summary.pdf))
        .subarray(0, 5)
        .toString(),
    ).toBe("%PDF-");
    expect(JSON.parse(Buffer.from(await store.get(summary.package)).toString()).type).toBe(
      "sealgate.review-package/1",
    );
    const client = new MlflowClient(
      MlflowConfig.parse({ trackingUri: inject("mlflow").url, auth: { type: "none" } }),
    );
    const tags = Object.fromEntries(
      (await client.modelVersion("credit-risk", "2")).tags.map((t) => [t.key, t.value]),
    );
    expect(tags).toMatchObject({
      "sealgate.package": summary.package,
      "sealgate.state": "pending_review",
      "sealgate.tier": summary.tier,
    });
    await client.close();
  });

  it("names the missing request fields", async () => {
    const dir = await mkdtemp(join(tmpdir(), "sealgate-review-cli-"));
    await writeFile(
      join(dir, "sealgate.yaml"),
      `mlflow:\n  trackingUri: ${inject("mlflow").url}\nstore: { path: s }\npolicy: p.yaml\n`,
    );
    await writeFile(join(dir, "request.yaml"), "justification: x\n");
    const r = await cli([
      "review",
      "--config",
      join(dir, "sealgate.yaml"),
      "--model",
      "m",
      "--version",
      "1",
      "--request",
      join(dir, "request.yaml"),
    ]);
    expect(r.code).toBe(2);
    expect(r.err).toContain("scope:");
    expect(r.err).toContain("intendedDeployment:");
  });
});
