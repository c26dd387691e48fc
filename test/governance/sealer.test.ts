import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, inject, it } from "vitest";
import { MlflowClient } from "../../connectors/mlflow/client.js";
import { MlflowConfig } from "../../connectors/mlflow/config.js";
import { SealIndex } from "../../src/governance/seal-index.js";
import { sealVersion } from "../../src/governance/sealer.js";
import { Ledger } from "../../src/ledger/ledger.js";
import { verifyPdfSignature } from "../../src/pdf/sign-pdf.js";
import { loadPolicy } from "../../src/policy/schema.js";
import { verifyCmsDetached } from "../../src/sign/cms.js";
import { loadSigner } from "../../src/sign/load.js";
import { FsObjectStore } from "../../src/store/fs-store.js";
import { verifyStore } from "../../src/verify/store.js";
import { devPki } from "../support/pki.js";
import { cli } from "../support/cli.js";

describe("sealing a material change through the full chain on the real MLflow server", () => {
  it("waits on an out-of-order approval, seals once the chain completes, and never seals twice", async () => {
    const { pki, trust } = await devPki();
    const dir = await mkdtemp(join(tmpdir(), "sealgate-seal-"));
    const issuer = "CN=Sealgate Dev Issuing CA, O=Sealgate Demo Org";
    const by = (email: string) => pki.approvers.find((a) => a.email === email)!;
    const roles: [string, string][] = [
      ["data-governance", "zoe.angstrom@example.org"],
      ["model-risk", "li.lei@example.org"],
      ["fair-lending", "aegir.thorsson@example.org"],
      ["ai-committee", "layla.haddad@example.org"],
    ];
    const example = await readFile(join(import.meta.dirname, "../../config/policy.example.yaml"), "utf8");
    const approvers = roles
      .map(
        ([role, email]) =>
          `  - { name: ${email}, roles: [${role}], subject: "CN=${by(email).name}, O=Sealgate Demo Org", issuer: "${issuer}", effectiveFrom: "2026-01-01T00:00:00Z" }`,
      )
      .join("\n");
    await writeFile(
      join(dir, "policy.yaml"),
      example.replace(/approvers:[\s\S]*?(?=\n# Model owners)/, `approvers:\n${approvers}\n`),
    );
    await writeFile(
      join(dir, "sealgate.yaml"),
      `mlflow:\n  trackingUri: ${inject("mlflow").url}\n  auth: { type: none }\nstore: { path: store }\npolicy: policy.yaml\ntrust: { anchors: ${pki.trust.anchors}, intermediates: ${pki.trust.intermediates} }\n`,
    );
    await writeFile(
      join(dir, "request.yaml"),
      "justification: adds tenure_months\nscope: retail, EU\nintendedDeployment: batch\nknownLimitations: thin files\n",
    );
    const cfg = join(dir, "sealgate.yaml");
    expect(
      (
        await cli([
          "review",
          "--config",
          cfg,
          "--model",
          "credit-risk",
          "--version",
          "3",
          "--request",
          join(dir, "request.yaml"),
        ])
      ).code,
    ).toBe(0);
    const approve = async (role: string, email: string) => {
      const a = by(email);
      const r = await cli([
        "approve",
        "--config",
        cfg,
        "--model",
        "credit-risk",
        "--version",
        "3",
        "--role",
        role,
        "--decision",
        "approve",
        "--key",
        a.key,
        "--cert",
        a.cert,
        "--condition",
        `${role}: re-review after 180 days`,
      ]);
      expect(r.err).toBe("");
    };

    const client = new MlflowClient(
      MlflowConfig.parse({ trackingUri: inject("mlflow").url, auth: { type: "none" } }),
    );
    const store = await new FsObjectStore(join(dir, "store")).init();
    const ledger = await Ledger.open(join(dir, "store", "ledger"));
    const deps = {
      client,
      store,
      ledger,
      index: await SealIndex.open(join(dir, "store")),
      policy: await loadPolicy(join(dir, "policy.yaml")),
      trust,
      signer: await loadSigner({ type: "pem", key: pki.sealing.key, cert: pki.sealing.cert }, "k", {}),
    };
    try {
      await approve("ai-committee", "layla.haddad@example.org");
      const early = await sealVersion(deps, "credit-risk", "3");
      expect(early).toMatchObject({
        outcome: "waiting",
        state: "pending_review",
        nextRole: "data-governance",
      });
      expect((early as { ignored: string[] }).ignored.join(" ")).toContain(
        "out of order: ai-committee signed before data-governance",
      );

      for (const [role, email] of roles) await approve(role, email);
      const sealed = await sealVersion(deps, "credit-risk", "3");
      expect(sealed).toMatchObject({ outcome: "sealed", decision: "approved" });
      const digest = (sealed as { record: string }).record;
      expect(await sealVersion(deps, "credit-risk", "3")).toEqual({
        outcome: "already-sealed",
        record: digest,
        decision: "approved",
      });
      expect(ledger.size).toBe(1);

      const tags = Object.fromEntries(
        (await client.modelVersion("credit-risk", "3")).tags.map((t) => [t.key, t.value]),
      );
      expect(tags).toMatchObject({ "sealgate.event": digest, "sealgate.state": "approved" });
      const record = JSON.parse(Buffer.from(await store.get(digest as never)).toString());
      expect(record.approvals.map((a: { role: string }) => a.role)).toEqual(roles.map(([r]) => r));
      expect(record.conditions).toHaveLength(4);
      expect(record.materiality.reasons.join(" ")).toContain("+tenure_months");

      const seal = deps.index.get(record.package)!;
      await verifyCmsDetached(await store.get(seal.p7s as never), await store.get(digest as never), trust);
      expect((await verifyPdfSignature(await store.get(seal.pdf as never), trust)).signer.subject).toContain(
        "sealing",
      );
      await ledger.checkpoint(deps.signer);
      expect((await verifyStore(join(dir, "store"), { trust })).findings).toEqual([]);
    } finally {
      await ledger.close();
      await client.close();
    }
  });
});
