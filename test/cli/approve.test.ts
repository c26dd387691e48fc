import { copyFile, mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, inject, it } from "vitest";
import { MlflowClient } from "../../connectors/mlflow/client.js";
import { MlflowConfig } from "../../connectors/mlflow/config.js";
import { REPO_ROOT } from "../../src/dev/venv.js";
import { readApprovalTags } from "../../src/governance/approvals/approval-tags.js";
import { verifyApproval } from "../../src/crypto/sign/approval.js";
import { FsObjectStore } from "../../src/evidence/store/fs-store.js";
import { devPki } from "../support/pki.js";
import { cli } from "../support/cli.js";

describe("sealgate approve", () => {
  it("signs the recorded package digest with the approver's certificate and records it as a tag, inline or by reference", async () => {
    const { pki, trust } = await devPki();
    const dir = await mkdtemp(join(tmpdir(), "sealgate-approve-"));
    await copyFile(join(REPO_ROOT, "config/policy.example.yaml"), join(dir, "policy.yaml"));
    const config = (limit: number) =>
      `mlflow:\n  trackingUri: ${inject("mlflow").url}\n  auth: { type: none }\nstore: { path: store }\npolicy: policy.yaml\ntrust:\n  anchors: ${pki.trust.anchors}\n  intermediates: ${pki.trust.intermediates}\napprovals: { tagValueLimit: ${limit} }\n`;
    await writeFile(join(dir, "sealgate.yaml"), config(5000));
    await writeFile(join(dir, "small.yaml"), config(100));
    await writeFile(
      join(dir, "request.yaml"),
      "justification: first release\nscope: EU\nintendedDeployment: batch\nknownLimitations: none\n",
    );
    const cfg = join(dir, "sealgate.yaml");
    const noPackage = await cli([
      "approve",
      "--config",
      cfg,
      "--model",
      "credit-risk",
      "--version",
      "1",
      "--role",
      "on-call",
      "--decision",
      "approve",
      "--key",
      pki.approvers[2]!.key,
      "--cert",
      pki.approvers[2]!.cert,
    ]);
    if (noPackage.code !== 0) expect(noPackage.err).toContain("run sealgate review first");
    const review = await cli([
      "review",
      "--config",
      cfg,
      "--model",
      "credit-risk",
      "--version",
      "1",
      "--request",
      join(dir, "request.yaml"),
      "--json",
    ]);
    expect(review.code).toBe(0);
    const { package: pkg } = JSON.parse(review.out);

    const li = pki.approvers.find((a) => a.email === "li.lei@example.org")!;
    const pass = (
      await (await import("node:fs/promises")).readFile(pki.p12Passphrase.slice(5), "utf8")
    ).trim();
    const r = await cli(
      [
        "approve",
        "--config",
        cfg,
        "--model",
        "credit-risk",
        "--version",
        "1",
        "--role",
        "on-call",
        "--decision",
        "approve",
        "--comment",
        "审阅完毕",
        "--p12",
        li.p12,
        "--passphrase",
        "${P12}",
        "--json",
      ],
      { P12: pass },
    );
    expect(r.err).toBe("");
    expect(r.code).toBe(0);
    const out = JSON.parse(r.out);
    expect(out).toMatchObject({
      byReference: false,
      identity: { email: "li.lei@example.org" },
      assertion: { packageDigest: pkg, role: "on-call" },
    });

    const small = await cli([
      "approve",
      "--config",
      join(dir, "small.yaml"),
      "--model",
      "credit-risk",
      "--version",
      "1",
      "--role",
      "model-risk",
      "--decision",
      "request-changes",
      "--key",
      li.key,
      "--cert",
      li.cert,
      "--json",
    ]);
    expect(small.code).toBe(0);
    expect(JSON.parse(small.out).byReference).toBe(true);

    const client = new MlflowClient(
      MlflowConfig.parse({ trackingUri: inject("mlflow").url, auth: { type: "none" } }),
    );
    const tags = Object.fromEntries(
      (await client.modelVersion("credit-risk", "1")).tags.map((t) => [t.key, t.value]),
    );
    const approvals = await readApprovalTags(tags, new FsObjectStore(join(dir, "store")));
    const verified = await Promise.all(approvals.map((a) => verifyApproval(a.jws, trust)));
    expect(verified.map((v) => v.assertion.decision).sort()).toEqual(["approve", "request-changes"]);
    await client.close();
  });

  it("refuses a bad certificate before writing anything", async () => {
    const { pki } = await devPki();
    const dir = await mkdtemp(join(tmpdir(), "sealgate-approve-"));
    await writeFile(
      join(dir, "sealgate.yaml"),
      `mlflow:\n  trackingUri: ${inject("mlflow").url}\nstore: { path: store }\ntrust: { anchors: ${pki.trust.anchors}, intermediates: ${pki.trust.intermediates} }\n`,
    );
    const r = await cli([
      "approve",
      "--config",
      join(dir, "sealgate.yaml"),
      "--model",
      "credit-risk",
      "--version",
      "2",
      "--role",
      "on-call",
      "--decision",
      "approve",
      "--key",
      pki.bad.expired.key,
      "--cert",
      pki.bad.expired.cert,
    ]);
    expect(r.code).toBe(1);
    expect(r.err).toContain("CN=Expired Approver");
  });
});
