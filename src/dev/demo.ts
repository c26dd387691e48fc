/**
 * `npm run demo`: the main job end to end on the embedded default, on a fresh machine.
 * Provisions the MLflow venv, starts a real MLflow server, seeds it through the official
 * client, creates a development PKI, reviews a material change, has four demo approvers sign
 * it in role order (through the same code path as `sealgate approve`), seals the record
 * (JWS, CMS, signed PDF, ledger), signs a checkpoint, runs the deployment gate, verifies the
 * store, and prints what an auditor would check by hand. GRC delivery and bundles join as
 * they land. Everything it writes goes to ./demo-out; everything it starts, it stops.
 */
import { copyFile, mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { MlflowClient } from "../../connectors/mlflow/client.js";
import { MlflowConfig } from "../../connectors/mlflow/config.js";
import type { CliIO } from "../cli/io.js";
import { runCli } from "../cli/program.js";
import { describeError } from "../errors.js";
import { SealIndex } from "../governance/seal-index.js";
import { sealVersion } from "../governance/sealer.js";
import { Ledger } from "../ledger/ledger.js";
import { createDevPki } from "../pki/dev-pki.js";
import { loadTrust } from "../pki/trust.js";
import { loadPolicy } from "../policy/schema.js";
import { loadSigner } from "../sign/load.js";
import { FsObjectStore } from "../store/fs-store.js";
import { verifyStore } from "../verify/store.js";
import { seedMlflow, startMlflowServer } from "./mlflow-server.js";
import { REPO_ROOT } from "./venv.js";

const say = (msg: string) => process.stdout.write(`${msg}\n`);

async function cli(args: string[]): Promise<string> {
  const out: string[] = [];
  const io: CliIO = { out: (t) => out.push(t), err: (t) => out.push(t), env: process.env, isTTY: false };
  const code = await runCli(args, io);
  if (code !== 0) throw new Error(`sealgate ${args[0]} exited ${code}:\n${out.join("")}`);
  return out.join("");
}

async function main() {
  const out = join(REPO_ROOT, "demo-out");
  await rm(out, { recursive: true, force: true });
  await mkdir(out, { recursive: true });
  say("1/8 creating a development PKI (root, issuing CA, sealing key, five approvers)");
  const pki = await createDevPki(join(out, "pki"));
  say("2/8 starting a real MLflow server (first run installs it into .cache/venv: a few minutes)");
  const server = await startMlflowServer({ log: say });
  try {
    say(`3/8 seeding ${server.url} through the official MLflow Python client`);
    await seedMlflow(server, { bigMb: 16, many: 30 });

    // Config and a policy whose approvers are the demo PKI's people.
    const roles: [string, string][] = [
      ["data-governance", "zoe.angstrom@example.org"],
      ["model-risk", "li.lei@example.org"],
      ["fair-lending", "aegir.thorsson@example.org"],
      ["ai-committee", "layla.haddad@example.org"],
    ];
    const person = (email: string) => pki.approvers.find((a) => a.email === email)!;
    const issuer = "CN=Sealgate Dev Issuing CA, O=Sealgate Demo Org";
    const policy = (await readFile(join(REPO_ROOT, "config/policy.example.yaml"), "utf8")).replace(
      /approvers:[\s\S]*?(?=\n# Model owners)/,
      `approvers:\n${[["on-call", "ada.lovelace@example.org"], ...roles]
        .map(
          ([role, email]) =>
            `  - { name: "${email}", roles: [${role}], subject: "CN=${person(email!).name}, O=Sealgate Demo Org", issuer: "${issuer}", effectiveFrom: "2026-01-01T00:00:00Z" }`,
        )
        .join("\n")}\n`,
    );
    await writeFile(join(out, "policy.yaml"), policy);
    const config = join(out, "sealgate.yaml");
    await writeFile(
      config,
      `mlflow:\n  trackingUri: ${server.url}\n  auth: { type: none }\nstore: { path: store }\npolicy: policy.yaml\ntrust: { anchors: ${pki.trust.anchors}, intermediates: ${pki.trust.intermediates} }\n`,
    );
    await writeFile(
      join(out, "request.yaml"),
      "justification: Adds tenure_months to the credit-risk model; AUC improves on the Q3 evaluation set.\nscope: retail lending, EU\nintendedDeployment: nightly batch scoring\nknownLimitations: thin-file applicants are under-represented in the evaluation set\n",
    );

    say("4/8 sealgate review credit-risk v3 (against the champion, v1)");
    const review = JSON.parse(
      await cli([
        "review",
        "--config",
        config,
        "--model",
        "credit-risk",
        "--version",
        "3",
        "--request",
        join(out, "request.yaml"),
        "--json",
      ]),
    );
    say(`    package ${review.package}\n    tier ${review.tier}: ${review.chain.join(" -> ")}`);
    for (const r of review.reasons) say(`    - ${r}`);

    say("5/8 four approvers sign in role order (sealgate approve)");
    for (const [role, email] of roles) {
      const p = person(email);
      await cli([
        "approve",
        "--config",
        config,
        "--model",
        "credit-risk",
        "--version",
        "3",
        "--role",
        role,
        "--decision",
        "approve",
        "--condition",
        "targets: prod-eu",
        "--key",
        p.key,
        "--cert",
        p.cert,
      ]);
      say(`    ${role}: ${p.name} <${email}>`);
    }

    say("6/8 sealing: record, JWS, CMS, signed PDF, ledger entry, signed checkpoint");
    const client = new MlflowClient(MlflowConfig.parse({ trackingUri: server.url, auth: { type: "none" } }));
    const storeRoot = join(out, "store");
    const store = await new FsObjectStore(storeRoot).init();
    const ledger = await Ledger.open(join(storeRoot, "ledger"));
    const trust = await loadTrust({ anchors: pki.trust.anchors, intermediates: pki.trust.intermediates });
    const signer = await loadSigner(
      { type: "pem", key: pki.sealing.key, cert: pki.sealing.cert },
      "sealing",
      {},
    );
    const index = await SealIndex.open(storeRoot);
    const sealed = await sealVersion(
      { client, store, ledger, index, policy: await loadPolicy(join(out, "policy.yaml")), trust, signer },
      "credit-risk",
      "3",
    );
    if (sealed.outcome !== "sealed") throw new Error(`expected a seal, got ${JSON.stringify(sealed)}`);
    await ledger.checkpoint(signer);
    await ledger.close();
    await client.close();
    const seal = index.byRecord(sealed.record)!;
    for (const [name, digest] of [
      ["record.json", sealed.record],
      ["record.p7s", seal.p7s],
      ["record.pdf", seal.pdf],
    ] as const) {
      await copyFile(store.pathOf(digest as never), join(out, name));
    }

    say("7/8 sealgate gate --target prod-eu");
    say(
      (
        await cli([
          "gate",
          "--config",
          config,
          "--model",
          "credit-risk",
          "--version",
          "3",
          "--target",
          "prod-eu",
        ])
      )
        .trimEnd()
        .replace(/^/gm, "    "),
    );

    say("8/8 sealgate verify --store");
    const report = await verifyStore(storeRoot, { trust });
    if (report.findings.length) throw new Error(`verify found ${report.findings.length} problem(s)`);
    say(
      `    ${report.entries} ledger entries, ${report.checkpoints} signed checkpoint(s): every entry, link, checkpoint and object verified`,
    );

    say("\nSummary");
    say(`  record    ${sealed.record} (${sealed.decision})`);
    say(`  PDF       ${join(out, "record.pdf")} (PAdES-signed)`);
    say(`  store     ${storeRoot}`);
    say("\nCheck by hand, with standard tools only:");
    say(`  sha256sum ${join(out, "record.json")}   # prints the record digest above`);
    say(
      `  openssl cms -verify -binary -inform DER -in ${join(out, "record.p7s")} -content ${join(out, "record.json")} -CAfile ${pki.trust.anchors} -certfile ${pki.trust.intermediates} -out /dev/null`,
    );
  } finally {
    await server.stop();
  }
}

main().catch((err) => {
  process.stderr.write(`demo failed: ${describeError(err)}\n`);
  process.exitCode = 1;
});
