import { createHash } from "node:crypto";
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, inject, it } from "vitest";
import { MlflowClient } from "../../../connectors/mlflow/client.js";
import { MlflowConfig } from "../../../connectors/mlflow/config.js";
import { MlflowSource } from "../../../connectors/mlflow/source.js";
import type { SourceRun } from "../../../src/source/registry-source.js";
import { resolveDatasets } from "../../../src/source/digest/dataset.js";

const client = () =>
  new MlflowSource(
    new MlflowClient(MlflowConfig.parse({ trackingUri: inject("mlflow").url, auth: { type: "none" } })),
  );

describe("evaluation datasets by content digest", () => {
  it("hashes the bytes of a dataset logged with mlflow.data, and keeps MLflow's digest as a label only", async () => {
    const c = client();
    const facts = (
      inject("mlflow").manifest.models["credit-risk"] as {
        versions: { run_id: string; eval_csv_sha256: string }[];
      }
    ).versions[0]!;
    const refs = await resolveDatasets(c, await c.run(facts.run_id));
    const evalRef = refs.find((r) => r.context === "eval")!;
    expect(evalRef).toMatchObject({
      contentAddressed: true,
      resolvedFrom: "mlflow-artifact",
      digest: `sha256:${facts.eval_csv_sha256}`,
    });
    expect(evalRef.mlflowDigest).toMatch(/^[0-9a-f]{8}$/);
    expect(refs.map((r) => r.context).sort()).toEqual(["eval", "training"]);
    await c.close();
  });

  it("says plainly when the bytes cannot be reached, and why", async () => {
    const c = client();
    const facts = (inject("mlflow").manifest.models["credit-risk"] as { versions: { run_id: string }[] })
      .versions[1]!;
    const run = await c.run(facts.run_id);
    const elsewhere: SourceRun = {
      ...run,
      datasets: run.datasets.map((d, i) => ({
        ...d,
        source: JSON.stringify({ url: i ? "https://data.example.com/q3.parquet" : "s3://lake/q3/" }),
      })),
    };
    const refs = await resolveDatasets(c, elsewhere);
    expect(refs.every((r) => !r.contentAddressed)).toBe(true);
    expect(refs.map((r) => (r.contentAddressed ? "" : r.reason)).join(" | ")).toMatch(
      /not on the dataset URL allow-list|not reachable/,
    );
    await c.close();
  });

  it("hashes a local file only when allowed", async () => {
    const c = client();
    const dir = await mkdtemp(join(tmpdir(), "sealgate-ds-"));
    await writeFile(join(dir, "holdout.csv"), "a,b\n1,2\n");
    const facts = (inject("mlflow").manifest.models["credit-risk"] as { versions: { run_id: string }[] })
      .versions[2]!;
    const run = await c.run(facts.run_id);
    const local: SourceRun = {
      ...run,
      datasets: [{ ...run.datasets[0]!, source: JSON.stringify({ uri: join(dir, "holdout.csv") }) }],
    };
    expect((await resolveDatasets(c, local))[0]!.contentAddressed).toBe(false);
    expect((await resolveDatasets(c, local, { allowLocalFiles: true }))[0]).toMatchObject({
      contentAddressed: true,
      resolvedFrom: "file",
      digest: `sha256:${createHash("sha256").update("a,b\n1,2\n").digest("hex")}`,
    });
    await c.close();
  });
});
