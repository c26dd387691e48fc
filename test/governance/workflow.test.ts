import { execFile } from "node:child_process";
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterEach, describe, expect, it } from "vitest";
import { runArtifactRoot } from "../../connectors/mlflow/artifacts.js";
import { APPROVAL_TAG_PREFIX, writeApprovalTag } from "../../src/governance/approvals/approval-tags.js";
import { TAGS } from "../../src/governance/cycle/tags.js";
import { eventsOf } from "../../src/governance/events/read.js";
import { sealVersion } from "../../src/governance/seal/sealer.js";
import type { PromotionRecord } from "../../src/record/schema.js";
import { signApproval } from "../../src/crypto/sign/approval.js";
import { loadSigner } from "../../src/crypto/sign/load.js";
import { cli } from "../support/cli.js";
import { cloneModel, MATERIAL_CHAIN, workspace } from "../support/workflow.js";
import { VENV_PYTHON } from "../../src/dev/venv.js";

/*
 * The governance workflow end to end on the real MLflow server, each case on its own copy of a
 * seeded model: routing, e-signatures refused for the right reason, separation of duties,
 * stale approvals, rejection and resubmission with a diff, comments, expiry and model cards.
 */

type Ws = Awaited<ReturnType<typeof workspace>>;
let open: Ws[] = [];
const ws = async (o?: Parameters<typeof workspace>[0]) => {
  const w = await workspace(o);
  open.push(w);
  return w;
};
afterEach(async () => {
  for (const w of open) await w.close();
  open = [];
});

const ADA = "ada.lovelace@example.org";
const recordOf = async (w: Ws, digest: string) =>
  JSON.parse(Buffer.from(await w.deps.store.get(digest as never)).toString()) as PromotionRecord;
const ignoredOf = (o: unknown) => ((o as { ignored?: string[] }).ignored ?? []).join("\n");

describe("the governance workflow on the real MLflow server", () => {
  it("routes a low-materiality retrain to the on-call role alone, seals it with a signed comment", async () => {
    const w = await ws();
    const name = await cloneModel(w.client, "credit-risk", ["1", "2"], "1");
    const pkg = await w.review(name, "2");
    expect(pkg.reasons).toEqual([]);
    expect(pkg.chain).toEqual(["on-call"]);
    expect(pkg.tier).toBe("low");
    const lei = w.person("li.lei@example.org");
    const comment = await w.run([
      "comment",
      "--model",
      name,
      "--version",
      "2",
      "--section",
      "dataset",
      "--clarification",
      "--text",
      "Which months does the eval set cover?",
      "--key",
      lei.key,
      "--cert",
      lei.cert,
    ]);
    expect(comment.err).toBe("");
    expect(
      (
        await w.run([
          "comment",
          "--model",
          name,
          "--version",
          "2",
          "--section",
          "nowhere",
          "--text",
          "x",
          "--key",
          lei.key,
          "--cert",
          lei.cert,
        ])
      ).code,
    ).toBe(2);
    expect((await w.approve(name, "2", "on-call", ADA)).err).toBe("");

    const sealed = await w.seal(name, "2");
    expect(sealed).toMatchObject({ outcome: "sealed", decision: "approved" });
    const record = await recordOf(w, (sealed as { record: string }).record);
    expect(record.approvals.map((a) => [a.role, a.identity.email])).toEqual([["on-call", ADA]]);
    expect(record.annotations).toMatchObject([
      {
        section: "dataset",
        kind: "clarification-request",
        text: "Which months does the eval set cover?",
        identity: { email: "li.lei@example.org" },
      },
    ]);
    expect(await w.tags(name, "2")).toMatchObject({
      [TAGS.state]: "approved",
      [TAGS.event]: record && (sealed as { record: string }).record,
    });
  });

  it("refuses approvals by an expired certificate, by someone without authority, and a hand-edited tag", async () => {
    const w = await ws();
    const name = await cloneModel(w.client, "credit-risk", ["1", "2"], "1");
    const pkg = await w.review(name, "2");
    // An expired certificate: the CLI refuses it up front, so sign around it as an attacker would.
    const expired = w.pki.bad.expired;
    expect(
      (
        await w.run([
          "approve",
          "--model",
          name,
          "--version",
          "2",
          "--role",
          "on-call",
          "--decision",
          "approve",
          "--key",
          expired.key,
          "--cert",
          expired.cert,
        ])
      ).code,
    ).toBe(1);
    const signer = await loadSigner({ type: "pem", key: expired.key, cert: expired.cert }, "k", {});
    const forged = await signApproval(
      {
        type: "sealgate.approval/1",
        model: name,
        version: "2",
        packageDigest: pkg.package,
        role: "on-call",
        decision: "approve",
        comment: "",
        conditions: [],
        signedAt: new Date().toISOString(),
      },
      signer,
    );
    await writeApprovalTag(w.deps.source, w.deps.store, name, "2", forged, 5000);
    // A valid certificate of someone the registry does not name as on-call: approve refuses it,
    // so it is planted in the tags as an MLflow editor could.
    const noAuthority = await w.approve(name, "2", "on-call", "layla.haddad@example.org");
    expect(noAuthority.code).toBe(1);
    expect(noAuthority.err).toContain("layla.haddad@example.org had no authority");
    expect(noAuthority.err).toContain("next: waiting for on-call since");
    await w.plant(name, "2", "on-call", "layla.haddad@example.org");
    // Ada approves, then someone edits her tag in MLflow to add a condition-free comment.
    expect(
      (await w.approve(name, "2", "on-call", ADA, "approve", "--condition", "targets: staging")).err,
    ).toBe("");
    const tags = await w.tags(name, "2");
    const adaKey = Object.keys(tags).find(
      (k) =>
        k.startsWith(APPROVAL_TAG_PREFIX) &&
        JSON.parse(Buffer.from(tags[k]!.split(".")[1]!, "base64url").toString()).conditions.length,
    )!;
    const [h, p, s] = tags[adaKey]!.split(".");
    const edited = { ...JSON.parse(Buffer.from(p!, "base64url").toString()), conditions: [] };
    await w.client.setModelVersionTag(
      name,
      "2",
      adaKey,
      [h, Buffer.from(JSON.stringify(edited)).toString("base64url"), s].join("."),
    );

    const result = await w.seal(name, "2");
    expect(result).toMatchObject({ outcome: "waiting", state: "pending_review", nextRole: "on-call" });
    const ignored = ignoredOf(result);
    expect(ignored).toMatch(/refused \(CERT_EXPIRED\)/);
    expect(ignored).toContain("layla.haddad@example.org had no authority as on-call");
    expect(ignored).toContain(`${adaKey}: refused (SIGNATURE_INVALID)`);
  });

  it("enforces separation of duties: no person in two roles, no owner approving their own model", async () => {
    const w = await ws({
      approvers: [["data-governance", "li.lei@example.org"]],
      owners: ["zoe.angstrom@example.org"],
    });
    const name = await cloneModel(w.client, "credit-risk", ["1", "3"], "1");
    expect((await w.review(name, "2")).chain).toEqual(MATERIAL_CHAIN.map(([r]) => r));
    const own = await w.approve(name, "2", "data-governance", "zoe.angstrom@example.org");
    expect(own.code).toBe(1);
    expect(own.err).toContain("separation of duties: zoe.angstrom@example.org registered or owns this model");
    expect(own.err).toContain("next: waiting for data-governance");
    await w.plant(name, "2", "data-governance", "zoe.angstrom@example.org");
    let result = await w.seal(name, "2");
    expect(ignoredOf(result)).toContain(
      "separation of duties: zoe.angstrom@example.org registered or owns this model",
    );
    expect((await w.approve(name, "2", "data-governance", "li.lei@example.org")).err).toBe("");
    const twice = await w.approve(name, "2", "model-risk", "li.lei@example.org");
    expect(twice.code).toBe(1);
    expect(twice.err).toContain("separation of duties: li.lei@example.org already filled a role");
    expect(twice.err).toContain("next: waiting for model-risk");
    await w.plant(name, "2", "model-risk", "li.lei@example.org");
    result = await w.seal(name, "2");
    expect(result).toMatchObject({ outcome: "waiting", nextRole: "model-risk" });
    expect(ignoredOf(result)).toContain(
      "separation of duties: li.lei@example.org already filled a role in this record",
    );
  });

  it("seals a rejection, links the resubmission with its diff, ignores the stale approval, then seals the approval", async () => {
    const w = await ws();
    const name = await cloneModel(w.client, "credit-risk", ["1", "2"], "1");
    await w.review(name, "2", "retrain on October data");
    expect((await w.approve(name, "2", "on-call", ADA, "reject", "--comment", "say why October")).err).toBe(
      "",
    );
    const rejected = await w.seal(name, "2");
    expect(rejected).toMatchObject({ outcome: "sealed", decision: "rejected" });
    const first = (rejected as { record: string }).record;
    expect((await w.tags(name, "2"))[TAGS.state]).toBe("rejected");

    const second = await w.review(name, "2", "retrain on October data: September drifted (PSI 0.3)");
    expect(second.cycle).toMatchObject({ number: 2, previous: first });
    expect(second.cycle.changes.map((c) => `${c.kind} ${c.path}`)).toEqual([
      "changed request.justification",
      "changed request.object",
    ]);
    // Ada's rejection named the old package: it stays in the first record and does not count now.
    const waiting = await w.seal(name, "2");
    expect(waiting).toMatchObject({ outcome: "waiting", state: "pending_review" });
    expect(ignoredOf(waiting)).toContain("stale: signed package");

    expect((await w.approve(name, "2", "on-call", ADA)).err).toBe("");
    const approved = await w.seal(name, "2");
    expect(approved).toMatchObject({ outcome: "sealed", decision: "approved" });
    const record = await recordOf(w, (approved as { record: string }).record);
    expect(record.cycle).toMatchObject({ number: 2, previous: first });
    expect(record.cycle.changes[0]).toMatchObject({
      path: "request.justification",
      kind: "changed",
      before: '"retrain on October data"',
    });
    const pdf = w.deps.index.get(record.package)!.pdf;
    const text = (await promisify(execFile)("pdftotext", ["-layout", w.deps.store.pathOf(pdf as never), "-"]))
      .stdout;
    expect(text).toContain("Cycle 1: rejected");
    expect(text).toContain("request.justification");
  });

  it("seals a request for changes as its own outcome; the gate refuses it and the resubmission answers it", async () => {
    const w = await ws();
    const name = await cloneModel(w.client, "credit-risk", ["1", "2"], "1");
    await w.review(name, "2", "retrain on October data");
    const asked = "--comment";
    expect((await w.approve(name, "2", "on-call", ADA, "request-changes", asked, "show the drift")).err).toBe(
      "",
    );
    const changes = await w.seal(name, "2");
    expect(changes).toMatchObject({ outcome: "sealed", decision: "changes_requested" });
    const first = (changes as { record: string }).record;
    const sealed = await recordOf(w, first);
    expect(sealed.approvals.map((a) => `${a.role} ${a.decision}`)).toEqual(["on-call request-changes"]);
    expect((await w.tags(name, "2"))[TAGS.state]).toBe("changes_requested");
    // Sealed once: another pass finds it, and a late approval of that package does not count.
    expect(await w.seal(name, "2")).toMatchObject({ outcome: "already-sealed", record: first });
    const late = await w.approve(name, "2", "on-call", ADA);
    expect(late.code).toBe(1);
    expect(late.err).toContain("the review cycle of this package is already changes requested");
    await w.deps.ledger.checkpoint(w.deps.signer);
    const gate = await w.run(["gate", "--model", name, "--version", "2", "--json"]);
    expect(gate.code).toBe(1);
    expect(gate.out).toContain("the sealed decision is changes_requested");

    const second = await w.review(name, "2", "retrain on October data: September drifted (PSI 0.3)");
    expect(second.cycle).toMatchObject({ number: 2, previous: first });
    expect((await w.approve(name, "2", "on-call", ADA)).err).toBe("");
    const approved = await w.seal(name, "2");
    expect(approved).toMatchObject({ outcome: "sealed", decision: "approved" });
    const record = await recordOf(w, (approved as { record: string }).record);
    expect(record.cycle).toMatchObject({ number: 2, previous: first });
    const pdf = w.deps.index.get(record.package)!.pdf;
    const text = (await promisify(execFile)("pdftotext", ["-layout", w.deps.store.pathOf(pdf as never), "-"]))
      .stdout;
    expect(text).toContain("Cycle 1: changes requested");
    // The bundle carries both cycles, and verify re-runs each cycle's chain to its sealed outcome.
    await w.deps.ledger.checkpoint(w.deps.signer);
    const out = join(w.dir, "bundle.zip");
    expect((await w.run(["export", "--model", name, "--version", "2", "--out", out])).err).toBe("");
    const verified = await cli(["verify", out, "--ca", w.pki.trust.anchors]);
    expect(verified.out + verified.err).not.toContain("✗");
    expect(verified.err).toBe("");
    expect(verified.code).toBe(0);
  });

  it("an approval past its expiry fails the gate and shows as expired in the registry", async () => {
    const w = await ws();
    const name = await cloneModel(w.client, "credit-risk", ["1", "2"], "1");
    await w.review(name, "2");
    const yesterday = new Date(Date.now() - 86_400_000).toISOString().slice(0, 10);
    expect(
      (await w.approve(name, "2", "on-call", ADA, "approve", "--condition", `expires: ${yesterday}`)).err,
    ).toBe("");
    expect(await w.seal(name, "2")).toMatchObject({ outcome: "sealed", decision: "approved" });
    await w.deps.ledger.checkpoint(w.deps.signer);
    const gate = await w.run(["gate", "--model", name, "--version", "2", "--json"]);
    expect(gate.code).toBe(1);
    expect(JSON.parse(gate.out).reasons).toEqual([
      expect.stringContaining(`approval expired on ${yesterday}`),
    ]);
    const sealed = await w.seal(name, "2");
    expect(sealed).toMatchObject({ outcome: "already-sealed" });
    expect((await w.tags(name, "2"))[TAGS.state]).toBe("expired");
    // The lapse is a signed expiry event in the ledger, appended once however many passes see it.
    await w.seal(name, "2");
    const expiries = async () =>
      (await eventsOf(w.deps.ledger, w.deps.store, { model: name, version: "2" })).events.filter(
        (e) => e.event.kind === "expiry",
      );
    const [expiry, ...more] = await expiries();
    expect(more).toEqual([]);
    expect(expiry!.event).toMatchObject({
      actor: "sealgate",
      record: (sealed as { record: string }).record,
      reason: expect.stringContaining(`approval expired on ${yesterday}`),
    });
    // A new process (no memory of having looked: another ledger object) finds it and adds none.
    const ledger = new Proxy(w.deps.ledger, {
      get: (t, p) => {
        const v: unknown = Reflect.get(t, p, t);
        return typeof v === "function" ? (v as (...a: unknown[]) => unknown).bind(t) : v;
      },
    });
    await sealVersion({ ...w.deps, ledger }, name, "2");
    expect(await expiries()).toHaveLength(1);
    await w.deps.ledger.checkpoint(w.deps.signer);
    const verified = await cli(["verify", "--store", join(w.dir, "store"), "--ca", w.pki.trust.anchors]);
    expect(verified.err).toBe("");
    expect(verified.code).toBe(0);
  });

  it("seals the model card and a model signature model_signing accepts; the gate refuses a target the card does not declare", async () => {
    const w = await ws();
    const name = `carded-${Math.random().toString(36).slice(2, 8)}`;
    const runId = (await w.client.modelVersion("credit-risk", "1")).run_id;
    const root = await runArtifactRoot(w.client, runId);
    const put = (path: string, body: string) =>
      w.client.http.json({
        method: "PUT",
        path: `api/2.0/mlflow-artifacts/artifacts/${root}/${name}/model/${path}`,
        body,
        headers: { "content-type": "application/octet-stream" },
      });
    const files: Record<string, string> = {
      MLmodel: "flavors:\n  python_function: {loader_module: m}\n",
      "weights.bin": "weights",
      "model_card.yaml":
        "intendedUse: Scoring retail credit applications\nlimitations: [Thin-file applicants]\ndeploymentTargets: [prod-eu, staging]\nowner: risk-ml\n",
    };
    for (const [path, body] of Object.entries(files)) await put(path, body);
    await w.client.http.json({
      method: "POST",
      path: "api/2.0/mlflow/registered-models/create",
      json: { name },
    });
    await w.client.http.json({
      method: "POST",
      path: "api/2.0/mlflow/model-versions/create",
      json: { name, source: `mlflow-artifacts:/${root}/${name}/model`, run_id: runId },
    });

    await w.review(name, "1");
    expect((await w.approve(name, "1", "on-call", ADA)).err).toBe("");
    const sealed = await w.seal(name, "1");
    const record = await recordOf(w, (sealed as { record: string }).record);
    expect(record.modelCard).toMatchObject({
      path: "model_card.yaml",
      intendedUse: "Scoring retail credit applications",
      limitations: ["Thin-file applicants"],
      targets: ["prod-eu", "staging"],
    });
    // The same files as deployed elsewhere, checked by OpenSSF's own verifier against the seal.
    const signature = w.deps.index.byRecord((sealed as { record: string }).record)!.modelSignature!;
    const deployed = await mkdtemp(join(tmpdir(), "sealgate-deployed-"));
    for (const [path, body] of Object.entries(files)) await writeFile(join(deployed, path), body);
    const sig = join(await mkdtemp(join(tmpdir(), "sealgate-sig-")), "model.sig");
    await writeFile(sig, await w.deps.store.get(signature as never));
    const modelSigning = () =>
      promisify(execFile)(VENV_PYTHON, [
        ...["-m", "model_signing", "verify", "certificate", deployed],
        ...["--signature", sig, "--certificate_chain", w.pki.trust.anchors],
      ]).then(
        () => "verified",
        (e: { stderr?: string }) => e.stderr ?? "failed",
      );
    expect(await modelSigning()).toBe("verified");
    await writeFile(join(deployed, "weights.bin"), "weightz");
    expect(await modelSigning()).toContain("weights.bin");
    await w.deps.ledger.checkpoint(w.deps.signer);
    const gate = (target: string) => w.run(["gate", "--model", name, "--version", "1", "--target", target]);
    expect((await gate("prod-eu")).code).toBe(0);
    const denied = await gate("prod-us");
    expect(denied.code).toBe(1);
    expect(denied.out).toContain(
      "target prod-us is not declared in the model card (model_card.yaml: prod-eu, staging)",
    );

    // A card that does not follow the schema is named with the field to fix.
    await put("model_card.yaml", "intendedUse: x\n");
    const bad = await w.run([
      "review",
      "--model",
      name,
      "--version",
      "1",
      "--request",
      join(w.dir, "request.yaml"),
    ]);
    expect(bad.code).toBe(2);
    expect(bad.err).toContain("deploymentTargets");
  });
});
