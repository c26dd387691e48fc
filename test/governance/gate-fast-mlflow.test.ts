import { describe, expect, inject, it } from "vitest";
import { proxiedPath } from "../../connectors/mlflow/artifacts.js";
import type { MlflowClient } from "../../connectors/mlflow/client.js";
import type { GateResult } from "../../src/governance/gate/gate.js";
import { workspace } from "../support/workflow.js";

/*
 * gate --fast on the real MLflow server: an unchanged version passes on the fast checks alone;
 * a changed source URI, a changed run id, an added, a removed and a resized file each make it
 * fall back to a full re-hash with the reason (or deny with --no-rehash). The version is backed
 * by a logged model of the test's own (MLflow 3: source models:/m-..., files under the logged
 * model's artifacts), because only then can MLflow hold the same source under another run. A
 * changed source or run is what someone with delete rights on the registry can do: delete the
 * registered model, register version 1 again, and copy sealgate's tags onto it.
 */

const API = "api/2.0/mlflow";
const seededRuns = () =>
  (inject("mlflow").manifest.models["credit-risk"] as { versions: { run_id: string }[] }).versions.map(
    (v) => v.run_id,
  );

/** A logged model of the run holding `files`; returns its id and a writer for its files. */
async function loggedModel(client: MlflowClient, runId: string, files: Record<string, string>) {
  const run = await client.run(runId);
  const created = (await client.http.json({
    method: "POST",
    path: `${API}/logged-models`,
    json: { experiment_id: run.info.experiment_id, name: "gate-fast", source_run_id: runId },
  })) as { model: { info: { model_id: string; artifact_uri: string } } };
  const { model_id: id, artifact_uri: uri } = created.model.info;
  const path = (p: string) => `${API}-artifacts/artifacts/${proxiedPath(uri)}/${p}`;
  const put = (p: string, body: string) =>
    client.http.json({
      method: "PUT",
      path: path(p),
      body,
      headers: { "content-type": "application/octet-stream" },
    });
  const del = (p: string) => client.http.json({ method: "DELETE", path: path(p) });
  for (const [p, body] of Object.entries(files)) await put(p, body);
  return { id, source: `models:/${id}`, put, del };
}

/** (Re-)register `name` v1 from a logged model under a run, carrying over the old version's tags. */
async function register(
  client: MlflowClient,
  name: string,
  model: { id: string; source: string },
  runId: string,
) {
  const old = await client.modelVersion(name, "1").catch(() => undefined);
  if (old)
    await client.http.json({ method: "DELETE", path: `${API}/registered-models/delete`, json: { name } });
  await client.http.json({ method: "POST", path: `${API}/registered-models/create`, json: { name } });
  await client.http.json({
    method: "POST",
    path: `${API}/model-versions/create`,
    json: { name, source: model.source, model_id: model.id, run_id: runId },
  });
  for (const t of old?.tags ?? []) await client.setModelVersionTag(name, "1", t.key, t.value);
}

describe("gate --fast on the real MLflow server", () => {
  it("passes unchanged bytes fast, and falls back (or denies) on each change it can see", async () => {
    const w = await workspace();
    const name = `fast-${Math.random().toString(36).slice(2, 8)}`;
    const files = {
      MLmodel: "flavors:\n  python_function: {loader_module: m}\n",
      "weights.bin": "approved weights",
    };
    const [runA, runB] = seededRuns();
    expect(runB).not.toBe(runA);
    const model = await loggedModel(w.client, runA!, files);
    await register(w.client, name, model, runA!);
    await w.review(name, "1");
    expect((await w.approve(name, "1", "on-call", "ada.lovelace@example.org")).err).toBe("");
    expect(await w.seal(name, "1")).toMatchObject({ outcome: "sealed", decision: "approved" });
    await w.deps.ledger.checkpoint(w.deps.signer);

    const gate = async (...extra: string[]) => {
      const r = await w.run(["gate", "--model", name, "--version", "1", "--fast", "--json", ...extra]);
      return { code: r.code, ...(JSON.parse(r.out) as GateResult) };
    };
    const unchanged = await gate();
    expect(unchanged).toMatchObject({
      code: 0,
      allowed: true,
      reasons: [],
      content: { method: "fast", fallback: [] },
    });
    const text = await w.run(["gate", "--model", name, "--version", "1", "--fast"]);
    expect(text.out).toContain("bytes checked by --fast (source, run, names and sizes; not re-hashed)");

    /** --fast falls back with exactly `why`, and --no-rehash denies with it. */
    const expectFallback = async (why: RegExp, allowedAfterRehash: boolean) => {
      const r = await gate();
      expect(r.content).toEqual({ method: "full", fallback: [expect.stringMatching(why)] });
      expect(r.reasons[0]).toMatch(/^FAST_FALLBACK: .*; re-hashed in full instead$/);
      expect(r.allowed).toBe(allowedAfterRehash);
      expect(r.findings.map((f) => f.code)).toEqual(allowedAfterRehash ? [] : ["CONTENT_CHANGED"]);
      const strict = await gate("--no-rehash");
      expect(strict.code).toBe(1);
      expect(strict.findings.map((f) => f.code)).toEqual(["FAST_CHECK_FAILED"]);
      expect(strict.findings[0]!.message).toMatch(/; not re-hashed \(--no-rehash\), so not allowed$/);
      expect(strict.findings[0]!.message.replace(/; not re-hashed .*$/, "")).toMatch(why);
    };

    // An added file.
    await model.put("extra.py", "print('hi')");
    await expectFallback(/^files added since sealing: extra\.py$/, false);
    await model.del("extra.py");
    expect((await gate()).content?.method).toBe("fast");

    // A removed file.
    await model.del("weights.bin");
    await expectFallback(/^files removed since sealing: weights\.bin$/, false);

    // A size change.
    await model.put("weights.bin", "tampered weights, longer");
    await expectFallback(/^file sizes changed since sealing: weights\.bin \(16 -> 24 bytes\)$/, false);
    await model.put("weights.bin", files["weights.bin"]);
    expect((await gate()).content?.method).toBe("fast");

    // A changed source URI, same run: another logged model with the same bytes; the re-hash allows.
    const copy = await loggedModel(w.client, runA!, files);
    await register(w.client, name, copy, runA!);
    await expectFallback(
      new RegExp(`^the version's source URI is now "${copy.source}"; "${model.source}" was sealed$`),
      true,
    );

    // A changed run id, same source: the version registered under another run.
    await register(w.client, name, model, runB!);
    await expectFallback(new RegExp(`^the version's run id is now "${runB}"; "${runA}" was sealed$`), true);

    // Back as sealed: fast again.
    await register(w.client, name, model, runA!);
    expect(await gate()).toMatchObject({ code: 0, allowed: true, content: { method: "fast", fallback: [] } });
    // promote runs the same gate: --fast passes it fast, and the alias is set.
    const promoted = await w.run([
      "promote",
      "--model",
      name,
      "--version",
      "1",
      "--alias",
      "production",
      "--fast",
      "--json",
    ]);
    expect(JSON.parse(promoted.out)).toMatchObject({
      allowed: true,
      alias: "production",
      content: { method: "fast", fallback: [] },
    });
    expect((await w.client.registeredModel(name)).aliases).toContainEqual({
      alias: "production",
      version: "1",
    });
    await w.close();
  });
});
