import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, inject, it } from "vitest";
import { MlflowClient } from "../../connectors/mlflow/client.js";
import { MlflowConfig } from "../../connectors/mlflow/config.js";
import { MlflowSource } from "../../connectors/mlflow/source.js";
import { REPO_ROOT } from "../../src/dev/venv.js";
import type { SealgateError } from "../../src/core/errors.js";
import { assembleReviewPackage } from "../../src/governance/review/assemble.js";
import { loadPolicy } from "../../src/policy/schema.js";
import { FsObjectStore } from "../../src/evidence/store/fs-store.js";

const request = {
  justification: "Adds tenure_months; AUC improves on the Q3 evaluation set.",
  scope: "retail lending, EU",
  intendedDeployment: "nightly batch scoring",
  knownLimitations: "thin-file applicants are under-represented",
};

async function setup() {
  const { url } = inject("mlflow");
  const client = new MlflowSource(
    new MlflowClient(MlflowConfig.parse({ trackingUri: url, auth: { type: "none" } })),
  );
  const store = await new FsObjectStore(await mkdtemp(join(tmpdir(), "sealgate-review-"))).init();
  const policy = await loadPolicy(join(REPO_ROOT, "config/policy.example.yaml"));
  return { client, store, policy };
}

describe("assembling the review package from the real MLflow server", () => {
  it("freezes the six fields and routes a feature-set change to the full chain", async () => {
    const { client, store, policy } = await setup();
    const facts = (
      inject("mlflow").manifest.models["credit-risk"] as {
        versions: { eval_csv_sha256: string; shap_png_sha256: string }[];
      }
    ).versions[2]!;
    const at = new Date("2026-11-21T12:00:00Z");
    const { pkg, digest } = await assembleReviewPackage({
      source: client,
      store,
      policy,
      model: "credit-risk",
      version: "3",
      request,
      now: () => at,
    });
    expect(pkg.model).toMatchObject({ name: "credit-risk", version: "3" });
    expect(pkg.model.contentDigest).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(await store.has(pkg.model.manifest as never)).toBe(true);
    expect(pkg.challenger).toMatchObject({ against: "incumbent", alias: "champion", version: "1" });
    expect(Object.keys(pkg.challenger.delta)).toEqual(expect.arrayContaining(["accuracy", "auc"]));
    expect(pkg.explanation).toMatchObject({
      object: `sha256:${facts.shap_png_sha256}`,
      mediaType: "image/png",
    });
    expect(pkg.dataset).toMatchObject({ contentAddressed: true, digest: `sha256:${facts.eval_csv_sha256}` });
    expect(pkg.materiality.tier).toBe("material");
    expect(pkg.materiality.reasons.join("; ")).toContain("feature set changed: +tenure_months");
    expect(pkg.policy.digest).toBe(policy.digest);
    // Same facts, same package; new request text, new package (so old approvals go stale).
    expect(
      (
        await assembleReviewPackage({
          source: client,
          store,
          policy,
          model: "credit-risk",
          version: "3",
          request,
          now: () => at,
        })
      ).digest,
    ).toBe(digest);
    const changed = await assembleReviewPackage({
      source: client,
      store,
      policy,
      model: "credit-risk",
      version: "3",
      request: { ...request, scope: "EU and UK" },
      now: () => at,
    });
    expect(changed.digest).not.toBe(digest);
    await client.close();
  });

  it("says what is missing when a version has no explanation artefact", async () => {
    const { client, store, policy } = await setup();
    const err = (await assembleReviewPackage({
      source: client,
      store,
      policy,
      model: "fraud-detector",
      version: "2",
      request,
    }).catch((e) => e)) as SealgateError;
    expect(err.code).toBe("GOVERNANCE_INCOMPLETE");
    expect(err.message).toContain("log a PNG, JPEG, JSON or HTML under explanations/");
    await client.close();
  });
});
