import { spawn } from "node:child_process";
import { copyFile, mkdir, rm, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { proxiedPath } from "../../connectors/mlflow/artifacts.js";
import { MlflowClient } from "../../connectors/mlflow/client.js";
import { MlflowConfig } from "../../connectors/mlflow/config.js";
import { loadConfig } from "../../src/app/config/load.js";
import { readStore } from "../../src/app/store.js";
import type { Digest } from "../../src/core/digest.js";
import { loadTrust } from "../../src/crypto/pki/trust.js";
import { signCmsDetached } from "../../src/crypto/sign/cms.js";
import { signJws } from "../../src/crypto/sign/jws.js";
import { sampleRecord } from "../../src/dev/sample-record.js";
import { REPO_ROOT } from "../../src/dev/venv.js";
import { FileLedger } from "../../src/evidence/ledger/file-ledger.js";
import { ledgerView } from "../../src/evidence/ledger/view.js";
import { FsObjectStore } from "../../src/evidence/store/fs-store.js";
import { SealIndex } from "../../src/evidence/store/seal-index.js";
import { sealedRecordInStore } from "../../src/evidence/verify/sealed-in-store.js";
import { Verifier } from "../../src/evidence/verify/verifier.js";
import { TAGS } from "../../src/governance/cycle/tags.js";
import type { GateResult } from "../../src/governance/gate/gate.js";
import { canonicalBytes } from "../../src/record/canonical.js";
import { RECORD_JWS_TYP, recordBytes, recordDigest } from "../../src/record/schema.js";
import { SEAL_TYPE, sealBytes } from "../../src/record/seal.js";
import { hashLocalModel, type ModelManifest } from "../../src/source/digest/model.js";
import type { FillerStore } from "./gate-store.js";
import { benchPki, median, timePython } from "./lib.js";

/*
 * What the gate benchmark gates: a model version on a real MLflow server (random files logged
 * to a run, registered), a real sealed record for it (JWS and CMS by the bench sealing key)
 * sealed after the stand-in records, a checkpoint over all of it, the registry's pointer to the
 * record, and a config; and the gate's command line, its check of an answer, and where an
 * in-process call spends its CPU.
 */

export const MODEL = "gate-bench";
export const FILES = 8;

export function exec(cmd: string, args: string[], env: NodeJS.ProcessEnv = {}) {
  return new Promise<{ code: number; stdout: string; stderr: string }>((resolve, reject) => {
    const child = spawn(cmd, args, { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.once("error", reject);
    child.once("close", (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

/** The gated version: 1 GiB of random files logged to a run, registered as version 1. */

async function registerModel(url: string, total: number, work: string) {
  const logged = await timePython("mlflow_artifacts.py", ["log", url, String(FILES), String(total), work]);
  const runId = String(logged.report?.run_id);
  const source = `${String(logged.report?.artifact_uri)}/model`;
  const client = new MlflowClient(MlflowConfig.parse({ trackingUri: url, auth: { type: "none" } }));
  try {
    const api = "api/2.0/mlflow";
    await client.http.json({
      method: "POST",
      path: `${api}/registered-models/create`,
      json: { name: MODEL },
    });
    await client.http.json({
      method: "POST",
      path: `${api}/model-versions/create`,
      json: { name: MODEL, source, run_id: runId },
    });
  } finally {
    await client.close();
  }
  return { runId, source, root: `${proxiedPath(String(logged.report?.artifact_uri))}/model` };
}

/** Seal a real record for the gated version into the store, after the fillers, and checkpoint. */
async function sealGated(root: string, v: { url: string; runId: string; source: string }, m: ModelManifest) {
  const { signer } = await benchPki();
  const store = await new FsObjectStore(root).init();
  const r = sampleRecord();
  r.model = {
    registry: v.url,
    name: MODEL,
    version: "1",
    source: v.source,
    runId: v.runId,
    contentDigest: m.root,
    manifest: await store.put(Buffer.from(JSON.stringify(m))),
  };
  r.cycle = { number: 1, previous: null, changes: [] };
  r.package = await store.put(Buffer.from(`{"package":"gate-bench ${Date.now()}"}`));
  r.policy.digest = await store.put(Buffer.from("policy: gate bench\n"));
  r.sealedAt = new Date().toISOString();
  const bytes = recordBytes(r);
  const record = await store.put(bytes);
  if (record !== recordDigest(r)) throw new Error("record digest mismatch");
  const jws = await store.put(canonicalBytes(await signJws(bytes, signer, RECORD_JWS_TYP), "record JWS"));
  const p7s = await store.put(await signCmsDetached(bytes, signer, new Date(r.sealedAt)));
  const pdf = await store.put(Buffer.from("%PDF-1.7 stand-in: the gate does not read the PDF"));
  const index = await SealIndex.open(root);
  await index.add({
    package: r.package,
    record,
    jws,
    p7s,
    pdf,
    model: MODEL,
    version: "1",
    decision: "approved",
  });
  const seal = await store.put(
    sealBytes({
      type: SEAL_TYPE,
      record,
      jws,
      cms: p7s,
      pdf,
      package: r.package as Digest,
      policy: r.policy.digest as Digest,
    }),
  );
  const ledger = await FileLedger.open(join(root, "ledger"));
  try {
    await ledger.append({ kind: "record", object: record, seal });
    await ledger.checkpoint(signer);
  } finally {
    await ledger.close();
  }
  return record;
}

async function writeConfig(dir: string, url: string, store: string) {
  const { pki } = await benchPki();
  const cfg = join(dir, "sealgate.yaml");
  await writeFile(
    cfg,
    `mlflow:\n  trackingUri: ${url}\n  auth: { type: none }\nstore: { path: ${store} }\npolicy: ${join(REPO_ROOT, "config/policy.example.yaml")}\ntrust: { anchors: ${pki.trust.anchors}, intermediates: ${pki.trust.intermediates}, crls: [${pki.trust.crl}] }\n`,
  );
  return cfg;
}

export const gateArgs = (cfg: string, fast: boolean) => [
  "gate",
  "--config",
  cfg,
  "--model",
  MODEL,
  "--version",
  "1",
  "--target",
  "prod-eu",
  "--json",
  ...(fast ? ["--fast"] : []),
];

/** Throws unless the gate allowed the version, judging the bytes the way asked. */
export function expectAllowed(json: string, method: "fast" | "full") {
  const r = JSON.parse(json) as GateResult;
  if (!r.allowed || r.content?.method !== method)
    throw new Error(`the gate did not allow by ${method}: ${JSON.stringify(r).slice(0, 2000)}`);
}

/** One `sealgate gate` as a pipeline runs it: a fresh Node process; wall time, CPU time, peak RSS. */

/**
 * Where an in-process --fast call spends its CPU, step by step, for the notes: the same calls
 * the gate makes (gate.ts and the CLI), each timed alone, median CPU ms over 30 rounds after 5
 * of warm-up. The MLflow requests are left out (the registry's time, not sealgate's CPU).
 */
export async function stepCosts(cfg: string): Promise<Record<string, number>> {
  const config = await loadConfig(cfg);
  const rel = (p: string) => resolve(cfg, "..", p);
  const storeRoot = rel(config.store!.path);
  const cpu: Record<string, number[]> = {};
  const step = async <T>(name: string, f: () => Promise<T>): Promise<T> => {
    const c0 = process.cpuUsage();
    const r = await f();
    const c = process.cpuUsage(c0);
    (cpu[name] ??= []).push((c.user + c.system) / 1000);
    return r;
  };
  for (let i = 0; i < 35; i++) {
    const trust = await step("config and trust", async () => {
      await loadConfig(cfg);
      return loadTrust({
        anchors: rel(config.trust!.anchors),
        intermediates: rel(config.trust!.intermediates!),
        crls: config.trust!.crls!.map(rel),
      });
    });
    const { store, ledger } = readStore(storeRoot);
    const index = await step("seal index (every line)", () => SealIndex.open(storeRoot));
    const view = await step("ledger view (every entry, Merkle tree)", () => ledgerView(ledger));
    const digest = [...view.seqOf.keys()].pop()!;
    const { sealed } = await step("record, JWS, CMS from the store", () =>
      sealedRecordInStore(store, index, view, digest),
    );
    await step("Verifier (JWS, CMS, checkpoint, inclusion)", () =>
      new Verifier(trust).verify(sealed, { approvals: false }),
    );
  }
  return Object.fromEntries(Object.entries(cpu).map(([k, xs]) => [k, median(xs.slice(5))]));
}

/** The gated version, sealed into the filler store (fresh ledger and index each run), and its config. */
export async function prepareGated(url: string, total: number, work: string, fillers: FillerStore) {
  const v = await registerModel(url, total, work);
  const manifest = await hashLocalModel(join(work, "model"));
  const store = fillers.root;
  for (const dir of ["ledger", "index"]) {
    await rm(join(store, dir), { recursive: true, force: true });
    await mkdir(join(store, dir), { recursive: true });
  }
  await copyFile(fillers.entries, join(store, "ledger", "entries.log"));
  await copyFile(fillers.index, join(store, "index", "sealed.jsonl"));
  const record = await sealGated(store, { url, ...v }, manifest);
  // What the sealer writes last: the registry's pointer to the sealed record.
  const client = new MlflowClient(MlflowConfig.parse({ trackingUri: url, auth: { type: "none" } }));
  await client.setModelVersionTag(MODEL, "1", TAGS.event, record);
  await client.close();
  return { ...v, modelDir: join(work, "model"), cfg: await writeConfig(work, url, store) };
}
