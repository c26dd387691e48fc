import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, inject, it } from "vitest";
import { MlflowClient } from "../../connectors/mlflow/client.js";
import { MlflowConfig } from "../../connectors/mlflow/config.js";
import { MlflowSource } from "../../connectors/mlflow/source.js";
import { REPO_ROOT } from "../../src/dev/venv.js";
import { conditionViolations } from "../../src/policy/conditions.js";
import { SealIndex } from "../../src/evidence/store/seal-index.js";
import { sealVersion } from "../../src/governance/seal/sealer.js";
import { FileLedger, FileLedgerReader } from "../../src/evidence/ledger/file-ledger.js";
import { eventsOf } from "../../src/governance/events/read.js";
import { loadPolicy } from "../../src/policy/schema.js";
import { loadSigner } from "../../src/crypto/sign/load.js";
import { FsObjectStore } from "../../src/evidence/store/fs-store.js";
import { devPki } from "../support/pki.js";
import { cli } from "../support/cli.js";
import { uploadModelVersion } from "../support/workflow.js";

describe("approval conditions the gate enforces", () => {
  const sealed = new Date("2026-11-01T00:00:00Z");
  it("expiry, re-review and deployment targets", () => {
    const c = [
      "on-call: expires: 2027-01-01",
      "re-review after 30 days",
      "targets: prod-eu, staging",
      "free text is informational",
    ];
    expect(conditionViolations(c, sealed, new Date("2026-11-10T00:00:00Z"), "prod-eu")).toEqual([]);
    expect(conditionViolations(c, sealed, new Date("2026-12-05T00:00:00Z"), "prod-eu")).toEqual([
      expect.stringContaining("re-review was due 30 days"),
    ]);
    expect(conditionViolations(c, sealed, new Date("2027-01-01T00:00:00Z"), "prod-eu")[0]).toContain(
      "approval expired on 2027-01-01",
    );
    expect(conditionViolations(c, sealed, new Date("2026-11-10T00:00:00Z"), "prod-us")[0]).toContain(
      "target prod-us is not among",
    );
    expect(conditionViolations(c, sealed, new Date("2026-11-10T00:00:00Z"))[0]).toContain("pass --target");
  });
});

describe("the deployment gate on the real MLflow server", () => {
  it("allows the approved bytes, denies a wrong target, promotes, and denies once the artefact bytes change", async () => {
    const { pki, trust } = await devPki();
    const url = inject("mlflow").url;
    const client = new MlflowClient(MlflowConfig.parse({ trackingUri: url, auth: { type: "none" } }));
    const name = `gate-${Math.random().toString(36).slice(2, 8)}`;
    const { put } = await uploadModelVersion(client, name, {
      MLmodel: "flavors:\n  python_function: {loader_module: m}\n",
      "weights.bin": "approved weights",
    });

    const dir = await mkdtemp(join(tmpdir(), "sealgate-gate-"));
    const cfg = join(dir, "sealgate.yaml");
    // Every command here acts on version 1 of this test's model with this config.
    const on = (command: string, ...args: string[]) =>
      cli([command, "--config", cfg, "--model", name, "--version", "1", ...args]);
    await writeFile(
      cfg,
      `mlflow:\n  trackingUri: ${url}\n  auth: { type: none }\nstore: { path: store }\npolicy: ${join(REPO_ROOT, "config/policy.example.yaml")}\ntrust: { anchors: ${pki.trust.anchors}, intermediates: ${pki.trust.intermediates} }\n` +
        `sealing: { key: { type: pem, key: ${pki.sealing.key}, cert: ${pki.sealing.cert} } }\n`,
    );
    await writeFile(
      join(dir, "request.yaml"),
      "justification: first release\nscope: EU\nintendedDeployment: batch\nknownLimitations: none\n",
    );
    const review = await on("review", "--request", join(dir, "request.yaml"), "--json");
    expect(review.err).toBe("");
    expect(JSON.parse(review.out).chain).toEqual(["on-call"]);
    const ada = pki.approvers.find((a) => a.email === "ada.lovelace@example.org")!;
    expect(
      (
        await on(
          "approve",
          "--role",
          "on-call",
          "--decision",
          "approve",
          "--condition",
          "targets: prod-eu",
          "--key",
          ada.key,
          "--cert",
          ada.cert,
        )
      ).err,
    ).toBe("");

    expect((await on("gate", "--target", "prod-eu")).code).toBe(1);
    const store = await new FsObjectStore(join(dir, "store")).init();
    const ledger = await FileLedger.open(join(dir, "store", "ledger"));
    const signer = await loadSigner({ type: "pem", key: pki.sealing.key, cert: pki.sealing.cert }, "k", {});
    const deps = {
      source: new MlflowSource(client),
      store,
      ledger,
      index: await SealIndex.open(join(dir, "store")),
      policy: await loadPolicy(join(REPO_ROOT, "config/policy.example.yaml")),
      trust,
      signer,
    };
    expect(await sealVersion(deps, name, "1")).toMatchObject({ outcome: "sealed", decision: "approved" });
    const uncovered = await on("gate", "--target", "prod-eu", "--json");
    expect(JSON.parse(uncovered.out).reasons).toEqual([
      expect.stringContaining("no signed checkpoint covers the ledger yet"),
    ]);
    expect(JSON.parse(uncovered.out).findings).toEqual([
      {
        code: "NOT_CHECKPOINTED",
        step: "inclusion",
        message: "no signed checkpoint covers the ledger yet; run the checkpoint job (sealgate sync) first",
        // Entries 0 and 1 are the review-opened and approval events.
        where: { entry: 2 },
      },
    ]);
    await ledger.checkpoint(signer);
    await ledger.close();

    const allow = await on("gate", "--target", "prod-eu");
    expect(allow.out).toContain("ALLOW");
    expect(allow.code).toBe(0);
    expect((await on("gate", "--target", "prod-eu", "--fast")).code).toBe(0);
    const wrongTarget = await on("gate", "--target", "staging");
    expect(wrongTarget.code).toBe(1);
    expect(wrongTarget.out).toContain(
      "✗ CONDITION_UNMET: target staging is not among the approved targets prod-eu",
    );
    const promote = await on("promote", "--alias", "production", "--target", "prod-eu");
    expect(promote.code).toBe(0);
    expect((await client.registeredModel(name)).aliases).toContainEqual({
      alias: "production",
      version: "1",
    });
    // The gate decision and the alias move are ledger events, the promotion naming the decision.
    expect(promote.out).toMatch(/gate-decision appended to the ledger as entry #\d+/);
    expect(promote.out).toMatch(/promote appended to the ledger as entry #\d+/);
    const ledgerEvents = async () =>
      (
        await eventsOf(FileLedgerReader.ofStore(join(dir, "store")), store, { model: name, version: "1" })
      ).events.map((e) => ({ ...e.event, digest: e.digest }));
    const [decision, promoted] = (await ledgerEvents()).filter(
      (e) => e.kind !== "review-opened" && e.kind !== "approval",
    );
    expect(decision).toMatchObject({
      kind: "gate-decision",
      target: "prod-eu",
      allowed: true,
      actor: "sealgate",
    });
    expect(promoted).toMatchObject({
      kind: "promote",
      alias: "production",
      from: null,
      gateDecision: decision!.digest,
    });

    await put("weights.bin", "tampered weights, longer");
    const denied = await on("gate", "--target", "prod-eu");
    expect(denied.code).toBe(1);
    expect(denied.out).toMatch(/✗ CONTENT_CHANGED: .*the artefact bytes changed after sealing/);
    const fastDenied = await on("gate", "--target", "prod-eu", "--fast");
    expect(fastDenied.code).toBe(1);
    expect(fastDenied.out).toContain(
      "↻ --fast fell back to a full re-hash: file sizes changed since sealing: weights.bin (16 -> 24 bytes)",
    );
    expect(fastDenied.out).toMatch(/✗ CONTENT_CHANGED: .*the artefact bytes changed after sealing/);
    const noPromote = await on("promote", "--alias", "canary", "--target", "prod-eu");
    expect(noPromote.code).toBe(1);
    expect((await client.registeredModel(name)).aliases.map((a) => a.alias)).not.toContain("canary");
    // A denied promotion is a gate decision in the ledger too, and moves nothing.
    const last = (await ledgerEvents()).at(-1)!;
    expect(last).toMatchObject({ kind: "gate-decision", target: "prod-eu", allowed: false });
    expect(noPromote.out).not.toContain("promote appended");
    await client.close();
  });
});
