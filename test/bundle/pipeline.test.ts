import { execFile } from "node:child_process";
import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { describe, expect, inject, it } from "vitest";
import { MlflowClient } from "../../connectors/mlflow/client.js";
import { MlflowConfig } from "../../connectors/mlflow/config.js";
import { MlflowSource } from "../../connectors/mlflow/source.js";
import { readZip } from "../../src/bundle/zip-read.js";
import { REPO_ROOT } from "../../src/dev/venv.js";
import { SealIndex } from "../../src/evidence/store/seal-index.js";
import { sealVersion } from "../../src/governance/seal/sealer.js";
import { FileLedger } from "../../src/evidence/ledger/file-ledger.js";
import { loadPolicy } from "../../src/policy/schema.js";
import { loadSigner } from "../../src/crypto/sign/load.js";
import { FsObjectStore } from "../../src/evidence/store/fs-store.js";
import { cli } from "../support/cli.js";
import { uploadModelVersion } from "../support/workflow.js";
import { devPki } from "../support/pki.js";
import { runVerifyMd } from "./run-verify-md.js";

const run = promisify(execFile);

/** poppler's pdfsig with an NSS database that trusts only the organisation's root. */
async function pdfsig(rootPem: string, pdf: string): Promise<string> {
  const nss = await mkdtemp(join(tmpdir(), "sealgate-nss-"));
  await run("certutil", ["-N", "-d", `sql:${nss}`, "--empty-password"]);
  await run("certutil", ["-A", "-d", `sql:${nss}`, "-n", "org root", "-t", "CT,C,C", "-i", rootPem]);
  return run("pdfsig", ["-nssdir", `sql:${nss}`, pdf]).then(
    (r) => r.stdout,
    (e: { stdout?: string }) => e.stdout ?? "",
  );
}

describe("a bundle exported from the real pipeline (MLflow, review, approve, seal, checkpoint)", () => {
  it("verifies three ways: sealgate verify, VERIFY.md with openssl and sha256sum, and pdfsig", async () => {
    const { pki } = await devPki();
    const url = inject("mlflow").url;
    const client = new MlflowClient(MlflowConfig.parse({ trackingUri: url, auth: { type: "none" } }));
    const name = `bundle-${Math.random().toString(36).slice(2, 8)}`;
    // A model of this test's own, so no other test's review or approvals touch it.
    await uploadModelVersion(client, name, {
      MLmodel: "flavors:\n  python_function: {loader_module: m}\n",
      "weights.bin": "weights the approver saw",
    });

    const dir = await mkdtemp(join(tmpdir(), "sealgate-bundle-pipeline-"));
    const cfg = join(dir, "sealgate.yaml");
    const policyPath = join(REPO_ROOT, "config/policy.example.yaml");
    await writeFile(
      cfg,
      `mlflow:\n  trackingUri: ${url}\n  auth: { type: none }\nstore: { path: store }\npolicy: ${policyPath}\ntrust: { anchors: ${pki.trust.anchors}, intermediates: ${pki.trust.intermediates} }\n`,
    );
    await writeFile(
      join(dir, "request.yaml"),
      "justification: first release\nscope: EU\nintendedDeployment: batch\nknownLimitations: none\n",
    );
    const on = (command: string, ...args: string[]) =>
      cli([command, "--config", cfg, "--model", name, "--version", "1", ...args]);
    expect((await on("review", "--request", join(dir, "request.yaml"))).err).toBe("");
    const ada = pki.approvers.find((a) => a.email === "ada.lovelace@example.org")!;
    const approve = ["--role", "on-call", "--decision", "approve", "--key", ada.key, "--cert", ada.cert];
    expect((await on("approve", ...approve)).err).toBe("");

    const signer = await loadSigner({ type: "pem", key: pki.sealing.key, cert: pki.sealing.cert }, "k", {});
    const ledger = await FileLedger.open(join(dir, "store", "ledger"));
    try {
      const sealed = await sealVersion(
        {
          source: new MlflowSource(client),
          store: await new FsObjectStore(join(dir, "store")).init(),
          ledger,
          index: await SealIndex.open(join(dir, "store")),
          policy: await loadPolicy(policyPath),
          trust: (await devPki()).trust,
          signer,
        },
        name,
        "1",
      );
      expect(sealed).toMatchObject({ outcome: "sealed", decision: "approved" });
      // No checkpoint yet: nothing proves the record is in the log, so there is no bundle.
      const early = await cli([
        "export",
        "--config",
        cfg,
        "--model",
        name,
        "--version",
        "1",
        "--out",
        join(dir, "x.zip"),
      ]);
      expect(early.code).toBe(2);
      expect(early.err).toContain("no signed checkpoint");
      await ledger.checkpoint(signer);
    } finally {
      await ledger.close();
      await client.close();
    }

    const out = join(dir, "bundle.zip");
    const exported = await cli(["export", "--config", cfg, "--model", name, "--version", "1", "--out", out]);
    expect(exported.err).toBe("");
    expect(exported.code).toBe(0);

    // 1. sealgate verify
    const verified = await cli(["verify", out, "--ca", pki.trust.anchors, "--log", join(dir, "store")]);
    expect(verified.out).not.toContain("✗");
    expect(verified.code).toBe(0);
    expect(verified.out).toContain("✓ the live ledger at");

    // 2. VERIFY.md with openssl, sha256sum and coreutils only
    const files = await readZip(await readFile(out));
    // The review PDF that `sealgate review` stored is found and carried.
    const index = JSON.parse(files.get("bundle.json")!.toString()) as {
      cycles: { reviewPdf?: string; events?: { object: string; seq: number }[] }[];
    };
    expect(files.has(`objects/${index.cycles[0]!.reviewPdf?.slice(7)}`)).toBe(true);
    // `approve` appended its decision to the ledger, so the sealer judged the cycle from the
    // ledger; the bundle carries that event, and both sealgate verify (above) and VERIFY.md agree.
    const approval = index.cycles[0]!.events?.find((e) => files.has(`records/1/events/${e.seq}.entry.json`));
    expect(approval).toBeDefined();
    const byHand = await runVerifyMd(files, pki.trust.anchors);
    expect(byHand.out).not.toContain("FAILED");
    expect(byHand.code).toBe(0);
    expect(byHand.out).toContain("CMS Verification successful");
    expect(byHand.out).toContain("OK: cycle 1's entry is in the signed ledger");
    expect(byHand.out).toMatch(/OK: the record's approvals \(on-call\) are in ledger order/);
    expect(byHand.out).toContain("Verified OK");

    // 3. pdfsig on the signed PDF
    const pdf = join(dir, "record.pdf");
    await writeFile(pdf, files.get("records/1/record.pdf")!);
    const report = await pdfsig(pki.trust.anchors, pdf);
    expect(report).toContain("Signature Validation: Signature is Valid.");
    expect(report).toContain("Certificate Validation: Certificate is Trusted.");
    expect(report).toContain("Total document signed");
  });
});
