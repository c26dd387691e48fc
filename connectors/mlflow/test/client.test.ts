import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { HttpStatusError } from "../../../src/core/http/errors.js";
import { FaultProxy } from "../../../test/support/fault-proxy.js";
import { collect, mlflow, testClient } from "./helpers.js";

describe("MLflow client against a real server", () => {
  let proxy: FaultProxy;
  beforeAll(async () => {
    proxy = await new FaultProxy(mlflow().url).start();
  });
  afterAll(() => proxy.stop());

  it("lists registered models with their aliases", async () => {
    const models = await collect(testClient().registeredModels());
    const credit = models.find((m) => m.name === "credit-risk");
    expect(credit?.aliases).toEqual(
      expect.arrayContaining([
        { alias: "champion", version: "1" },
        { alias: "challenger", version: "3" },
      ]),
    );
    expect(models.map((m) => m.name)).toEqual(
      expect.arrayContaining(["churn", "credit-risk", "fraud-detector"]),
    );
  });

  it("follows version paging past 250 versions and returns every version once", async () => {
    const client = testClient({ trackingUri: proxy.url, versionPageSize: 100 });
    proxy.clear();
    const versions = await collect(client.modelVersions("name = 'churn'"));
    const count = (mlflow().manifest.models.churn as { version_count: number }).version_count;
    expect(count).toBeGreaterThan(250);
    expect(new Set(versions.map((v) => v.version)).size).toBe(count);
    expect(versions.every((v) => v.name === "churn" && v.status === "READY")).toBe(true);
    expect(proxy.seen.filter((r) => r.url.includes("model-versions/search")).length).toBe(
      Math.ceil(count / 100),
    );
  });

  it("pages registered models one at a time when asked", async () => {
    const models = await collect(testClient({ pageSize: 1 }).registeredModels());
    expect(models.length).toBeGreaterThanOrEqual(3);
  });

  it("reads a version, its download URI, its run with datasets by context, and its MLflow 3 logged model", async () => {
    const client = testClient();
    const facts = (
      mlflow().manifest.models["credit-risk"] as { versions: { run_id: string; source: string }[] }
    ).versions[0];
    const v = await client.modelVersion("credit-risk", "1");
    expect(v.source).toBe(facts?.source);
    expect(v.source).toMatch(/^models:\/m-[0-9a-f]{32}$/);
    expect(await client.downloadUri("credit-risk", "1")).toMatch(/^mlflow-artifacts:\//);
    const run = await client.run(v.run_id);
    const contexts = run.inputs.dataset_inputs.map(
      (d) => d.tags.find((t) => t.key === "mlflow.data.context")?.value,
    );
    expect(contexts.sort()).toEqual(["eval", "training"]);
    expect(run.data.metrics.map((m) => m.key)).toEqual(expect.arrayContaining(["accuracy", "auc", "psi"]));
    const logged = await client.loggedModel(v.source.slice("models:/".length));
    expect(logged.info.source_run_id).toBe(v.run_id);
  });

  it("sets and deletes version tags and moves aliases", async () => {
    const client = testClient();
    await client.setModelVersionTag("credit-risk", "2", "sealgate.test", "x=1 ünïcode");
    expect((await client.modelVersion("credit-risk", "2")).tags).toContainEqual({
      key: "sealgate.test",
      value: "x=1 ünïcode",
    });
    await client.deleteModelVersionTag("credit-risk", "2", "sealgate.test");
    expect((await client.modelVersion("credit-risk", "2")).tags.map((t) => t.key)).not.toContain(
      "sealgate.test",
    );
    await client.setAlias("credit-risk", "sealgate-test", "2");
    expect((await client.registeredModel("credit-risk")).aliases).toContainEqual({
      alias: "sealgate-test",
      version: "2",
    });
    await client.deleteAlias("credit-risk", "sealgate-test");
    expect((await client.registeredModel("credit-risk")).aliases.map((a) => a.alias)).not.toContain(
      "sealgate-test",
    );
  });

  it("maps a missing model to a 404 error that names the method, URL and MLflow's code", async () => {
    const err = await testClient()
      .registeredModel("no-such-model")
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HttpStatusError);
    const e = err as HttpStatusError;
    expect(e.status).toBe(404);
    expect(e.remote.code).toBe("RESOURCE_DOES_NOT_EXIST");
    expect(e.message).toContain("GET");
    expect(e.message).toContain("registered-models/get");
    expect(e.exitCode).toBe(3);
  });

  it("maps an invalid parameter to a 400 error without retrying", async () => {
    const client = testClient({ trackingUri: proxy.url });
    proxy.clear();
    const err = (await client
      .modelVersion("credit-risk", "not-a-number")
      .catch((e: unknown) => e)) as HttpStatusError;
    expect(err).toBeInstanceOf(HttpStatusError);
    expect(err.status).toBe(400);
    expect(err.remote.code).toBe("INVALID_PARAMETER_VALUE");
    expect(proxy.seen).toHaveLength(1);
  });
});
