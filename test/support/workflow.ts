import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect, inject } from "vitest";
import { runArtifactRoot } from "../../connectors/mlflow/artifacts.js";
import { MlflowClient } from "../../connectors/mlflow/client.js";
import { MlflowConfig } from "../../connectors/mlflow/config.js";
import { MlflowSource } from "../../connectors/mlflow/source.js";
import { SealIndex } from "../../src/evidence/store/seal-index.js";
import { type SealerDeps, sealVersion } from "../../src/governance/seal/sealer.js";
import { FileLedger } from "../../src/evidence/ledger/file-ledger.js";
import { loadPolicy } from "../../src/policy/schema.js";
import { loadSigner } from "../../src/crypto/sign/load.js";
import { FsObjectStore } from "../../src/evidence/store/fs-store.js";
import { signApproval } from "../../src/crypto/sign/approval.js";
import { writeApprovalTag } from "../../src/governance/approvals/approval-tags.js";
import { cli } from "./cli.js";
import { devPki } from "./pki.js";

/*
 * A governance workspace on the shared real MLflow server: a private copy of a seeded model
 * (so tests that seal never see each other's registry tags), a config, a policy whose
 * approver registry names the dev PKI's people, and helpers that act as they would.
 */

export const ISSUER = "CN=Sealgate Dev Issuing CA, O=Sealgate Demo Org";
export const MATERIAL_CHAIN: [string, string][] = [
  ["data-governance", "zoe.angstrom@example.org"],
  ["model-risk", "li.lei@example.org"],
  ["fair-lending", "aegir.thorsson@example.org"],
  ["ai-committee", "layla.haddad@example.org"],
];

/** Register `versions` of a seeded model again under a fresh name, same runs, sources and models. */
export async function cloneModel(
  client: MlflowClient,
  from: string,
  versions: string[],
  champion?: string,
  name = `copy-${from}-${Math.random().toString(36).slice(2, 8)}`,
) {
  await client.http.json({ method: "POST", path: "api/2.0/mlflow/registered-models/create", json: { name } });
  for (const v of versions) await registerVersion(client, name, await client.modelVersion(from, v));
  if (champion) await client.setAlias(name, "champion", champion);
  return name;
}

/** A new version of `name` with the same source and run as `mv` (same model files). */
export async function registerVersion(
  client: MlflowClient,
  name: string,
  mv: { source: string; run_id?: string; model_id?: string },
) {
  // MLflow 3 logged-model sources (models:/m-...) must name their logged model.
  const modelId = mv.model_id ?? /^models:\/(m-[0-9a-f]+)$/.exec(mv.source)?.[1];
  await client.http.json({
    method: "POST",
    path: "api/2.0/mlflow/model-versions/create",
    json: { name, source: mv.source, run_id: mv.run_id, ...(modelId ? { model_id: modelId } : {}) },
  });
}

/**
 * A registered model of the caller's own whose version 1 is `files`, uploaded into a seeded
 * run's artifacts (MLflow accepts a version source only inside its run's artifacts). `put`
 * changes a file's bytes afterwards, as someone tampering with the artefact would.
 */
export async function uploadModelVersion(client: MlflowClient, name: string, files: Record<string, string>) {
  const runId = (inject("mlflow").manifest.models["credit-risk"] as { versions: { run_id: string }[] })
    .versions[0]!.run_id;
  const runRoot = await runArtifactRoot(client, runId);
  const put = (path: string, body: string) =>
    client.http.json({
      method: "PUT",
      path: `api/2.0/mlflow-artifacts/artifacts/${runRoot}/${name}/model/${path}`,
      body,
      headers: { "content-type": "application/octet-stream" },
    });
  for (const [path, body] of Object.entries(files)) await put(path, body);
  await client.http.json({ method: "POST", path: "api/2.0/mlflow/registered-models/create", json: { name } });
  await client.http.json({
    method: "POST",
    path: "api/2.0/mlflow/model-versions/create",
    json: { name, source: `mlflow-artifacts:/${runRoot}/${name}/model`, run_id: runId },
  });
  return { put };
}

type Decision = "approve" | "reject" | "request-changes";

export interface WorkspaceOptions {
  /** Extra registry entries: [role, email of a dev PKI person]. */
  approvers?: [string, string][];
  /** Replace the policy's `owners:` list. */
  owners?: string[];
  /** Extra top-level YAML appended to sealgate.yaml (e.g. a destinations: block). */
  extraConfig?: string;
  /** Registered models this workspace's sync watches (default all: only safe when it never syncs). */
  models?: string[];
}

export async function workspace(o: WorkspaceOptions = {}) {
  const { pki, trust } = await devPki();
  const dir = await mkdtemp(join(tmpdir(), "sealgate-flow-"));
  const person = (email: string) => pki.approvers.find((a) => a.email === email)!;
  const line = (role: string, email: string, extra = "") =>
    `  - { name: ${email}, roles: [${role}], subject: "CN=${person(email).name}, O=Sealgate Demo Org", issuer: "${ISSUER}", effectiveFrom: "2026-01-01T00:00:00Z"${extra} }`;
  const example = await readFile(join(import.meta.dirname, "../../config/policy.example.yaml"), "utf8");
  const approvers = [
    line("on-call", "ada.lovelace@example.org"),
    ...MATERIAL_CHAIN.map(([r, e]) => line(r, e)),
    ...(o.approvers ?? []).map(([r, e]) => line(r, e)),
  ];
  let policy = example.replace(
    /approvers:[\s\S]*?(?=\n# Model owners)/,
    `approvers:\n${approvers.join("\n")}\n`,
  );
  if (o.owners) policy = policy.replace(/owners: \[.*\]/, `owners: [${o.owners.join(", ")}]`);
  await writeFile(join(dir, "policy.yaml"), policy);
  const cfg = join(dir, "sealgate.yaml");
  const url = inject("mlflow").url;
  await writeFile(
    cfg,
    `mlflow:\n  trackingUri: ${url}\n  auth: { type: none }\n${o.models ? `  models: [${o.models.map((m) => JSON.stringify(m)).join(", ")}]\n` : ""}store: { path: store }\npolicy: policy.yaml\ntrust: { anchors: ${pki.trust.anchors}, intermediates: ${pki.trust.intermediates} }\nsealing:\n  key: { type: pem, key: ${pki.sealing.key}, cert: ${pki.sealing.cert} }\n${o.extraConfig ?? ""}`,
  );
  const client = new MlflowClient(MlflowConfig.parse({ trackingUri: url, auth: { type: "none" } }));
  const store = await new FsObjectStore(join(dir, "store")).init();
  const ledger = await FileLedger.open(join(dir, "store", "ledger"));
  // The file classes, not just the interfaces: tests look at the files and reopen the ledger.
  const deps: SealerDeps & { store: FsObjectStore; ledger: FileLedger } = {
    source: new MlflowSource(client),
    store,
    ledger,
    index: await SealIndex.open(join(dir, "store")),
    policy: await loadPolicy(join(dir, "policy.yaml")),
    trust,
    signer: await loadSigner({ type: "pem", key: pki.sealing.key, cert: pki.sealing.cert }, "k", {}),
  };
  const request = async (justification: string, file = "request.yaml") => {
    await writeFile(
      join(dir, file),
      `justification: ${JSON.stringify(justification)}\nscope: retail, EU\nintendedDeployment: batch\nknownLimitations: thin files\n`,
    );
    return join(dir, file);
  };
  const run = (args: string[]) => cli([args[0]!, "--config", cfg, ...args.slice(1)], process.env);
  return {
    dir,
    cfg,
    pki,
    trust,
    client,
    deps,
    person,
    run,
    /** `sealgate review` with a request whose justification is given; asserts success. */
    async review(model: string, version: string, justification = "first submission", ...extra: string[]) {
      const r = await run([
        "review",
        "--model",
        model,
        "--version",
        version,
        "--request",
        await request(justification),
        "--json",
        ...extra,
      ]);
      expect(r.err).toBe("");
      return JSON.parse(r.out) as {
        package: string;
        tier: string;
        chain: string[];
        reasons: string[];
        cycle: { number: number; previous: string | null; changes: { path: string; kind: string }[] };
      };
    },
    /** `sealgate approve` as the dev person with this email; returns the CLI result. */
    approve(
      model: string,
      version: string,
      role: string,
      email: string,
      decision = "approve",
      ...extra: string[]
    ) {
      const p = person(email);
      return run([
        "approve",
        "--model",
        model,
        "--version",
        version,
        "--role",
        role,
        "--decision",
        decision,
        "--key",
        p.key,
        "--cert",
        p.cert,
        ...extra,
      ]);
    },
    /**
     * An approval written straight into the registry's tags, around `approve`'s refusals, as a
     * user with edit rights on MLflow (or an older sealgate) could: the sealer must still judge it.
     */
    async plant(
      model: string,
      version: string,
      role: string,
      email: string,
      decision: Decision = "approve",
      extra: { reviewPdf?: string } = {},
    ) {
      const p = person(email);
      const signer = await loadSigner({ type: "pem", key: p.key, cert: p.cert }, "k", {});
      const packageDigest = (await client.modelVersion(model, version)).tags.find(
        (t) => t.key === "sealgate.package",
      )!.value;
      const jws = await signApproval(
        {
          type: "sealgate.approval/1",
          model,
          version,
          packageDigest,
          ...extra,
          role,
          decision,
          comment: "",
          conditions: [],
          signedAt: new Date().toISOString(),
        },
        signer,
      );
      return writeApprovalTag(deps.source, store, model, version, jws, 5000);
    },
    seal: (model: string, version: string) => sealVersion(deps, model, version),
    async tags(model: string, version: string) {
      return Object.fromEntries(
        (await client.modelVersion(model, version)).tags.map((t) => [t.key, t.value]),
      );
    },
    async close() {
      // deps.ledger: a test may reopen the ledger (as after a crash).
      await deps.ledger.close();
      await client.close();
    },
  };
}
