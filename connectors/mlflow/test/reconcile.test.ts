import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { SealgateError } from "../../../src/core/errors.js";
import { FaultProxy } from "../../../test/support/fault-proxy.js";
import { ReconcileState, reconcile } from "../reconcile.js";
import { createTestModel, mlflow, testClient } from "./helpers.js";

describe("reconcile by fingerprint on a real server", () => {
  let dir: string;
  let model: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "sealgate-reconcile-"));
    model = await createTestModel("reconcile", 3);
  });

  const setup = () => {
    const client = testClient({ models: [model] });
    return { client, state: new ReconcileState(join(dir, `${model}.json`), mlflow().url) };
  };

  it("reports every version once as created, then nothing until something changes", async () => {
    const { client, state } = setup();
    const first = await reconcile(client, state);
    expect(first.events.map((e) => [e.model, e.version, e.changes])).toEqual([
      [model, "1", [{ kind: "created" }]],
      [model, "2", [{ kind: "created" }]],
      [model, "3", [{ kind: "created" }]],
    ]);
    expect(first.events.every((e) => e.origin === "reconcile")).toBe(true);
    await first.commit();
    expect((await reconcile(client, state)).events).toEqual([]);
  });

  it("detects a tag-only change that leaves last_updated_timestamp alone", async () => {
    const { client, state } = setup();
    const before = await client.modelVersion(model, "2");
    await client.setModelVersionTag(model, "2", "sealgate.approval.risk", "signed-assertion");
    const after = await client.modelVersion(model, "2");
    // The reason fingerprints exist: MLflow does not bump the timestamp for tags.
    expect(after.last_updated_timestamp).toBe(before.last_updated_timestamp);
    const result = await reconcile(client, state);
    expect(result.events).toHaveLength(1);
    expect(result.events[0]).toMatchObject({
      model,
      version: "2",
      changes: [{ kind: "tag", key: "sealgate.approval.risk", before: null, after: "signed-assertion" }],
    });
    await result.commit();
  });

  it("reports an alias moving between versions on both versions", async () => {
    const { client, state } = setup();
    await client.setAlias(model, "champion", "1");
    let result = await reconcile(client, state);
    expect(result.events.map((e) => [e.version, e.changes])).toEqual([
      ["1", [{ kind: "alias", alias: "champion", before: false, after: true }]],
    ]);
    await result.commit();
    await client.setAlias(model, "champion", "3");
    result = await reconcile(client, state);
    expect(result.events.map((e) => [e.version, e.changes])).toEqual([
      ["1", [{ kind: "alias", alias: "champion", before: true, after: false }]],
      ["3", [{ kind: "alias", alias: "champion", before: false, after: true }]],
    ]);
    await result.commit();
  });

  it("replays changes when the previous pass was not committed (crash before commit)", async () => {
    const { client, state } = setup();
    await client.deleteModelVersionTag(model, "2", "sealgate.approval.risk");
    const uncommitted = await reconcile(client, state);
    expect(uncommitted.events).toHaveLength(1);
    const again = await reconcile(client, state);
    expect(again.events).toEqual(
      uncommitted.events.map((e) => ({ ...e, observedAt: again.events[0]?.observedAt })),
    );
    await again.commit();
    expect((await reconcile(client, state)).events).toEqual([]);
  });

  it("reports a deleted version", async () => {
    const { client, state } = setup();
    await client.http.json({
      method: "DELETE",
      path: "api/2.0/mlflow/model-versions/delete",
      json: { name: model, version: "1" },
    });
    const result = await reconcile(client, state);
    expect(result.events.map((e) => [e.version, e.changes])).toEqual([["1", [{ kind: "deleted" }]]]);
  });

  it("refuses a corrupt state file with the fix in the message", async () => {
    const path = join(dir, "corrupt.json");
    await writeFile(path, '{"format":"sealgate.mlflow-state/1","versions":');
    const err = (await new ReconcileState(path, mlflow().url)
      .load()
      .catch((e: unknown) => e)) as SealgateError;
    expect(err.code).toBe("STATE_CORRUPT");
    expect(err.message).toContain("move it aside");
  });

  it("refuses a state file that belongs to another MLflow server", async () => {
    const { state } = setup();
    const other = new ReconcileState(state.path, "http://elsewhere:5000");
    const err = (await other.load().catch((e: unknown) => e)) as SealgateError;
    expect(err.code).toBe("STATE_CORRUPT");
    expect(JSON.parse(await readFile(state.path, "utf8")).trackingUri).toBe(mlflow().url);
  });
});

describe("a full reconcile costs pages, not versions", () => {
  let proxy: FaultProxy;
  beforeAll(async () => {
    proxy = await new FaultProxy(mlflow().url).start();
  });
  afterAll(() => proxy.stop());

  it("reads every version of every model in two requests at the default page sizes", async () => {
    const dir = await mkdtemp(join(tmpdir(), "sealgate-reconcile-"));
    const client = testClient({ trackingUri: proxy.url });
    proxy.clear();
    const result = await reconcile(client, new ReconcileState(join(dir, "s.json"), proxy.url));
    expect(result.events.length).toBeGreaterThan(260);
    expect(proxy.seen.map((r) => r.url.split("?")[0])).toEqual([
      "/api/2.0/mlflow/registered-models/search",
      "/api/2.0/mlflow/model-versions/search",
    ]);
  });

  it("with 100 versions a page, requests grow with pages only", async () => {
    const dir = await mkdtemp(join(tmpdir(), "sealgate-reconcile-"));
    const client = testClient({ trackingUri: proxy.url, versionPageSize: 100 });
    proxy.clear();
    const result = await reconcile(client, new ReconcileState(join(dir, "s.json"), proxy.url));
    const versionPages = proxy.seen.filter((r) => r.url.includes("model-versions/search")).length;
    // MLflow may hand out a token for an empty last page when the count divides evenly.
    expect(versionPages).toBeGreaterThanOrEqual(Math.ceil(result.events.length / 100));
    expect(versionPages).toBeLessThanOrEqual(Math.ceil(result.events.length / 100) + 1);
  });
});
