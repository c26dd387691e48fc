/**
 * `npm run demo`: the main job end to end on the embedded default, on a fresh machine.
 * Provisions the MLflow venv, starts a real MLflow server seeded through the official client,
 * creates a development PKI, starts the ServiceNow, Vanta and Archer simulators, and then acts
 * as the people would, through the sealgate CLI: a low-tier retrain approved by on-call, a
 * material change through the full chain, and a change rejected, resubmitted and approved.
 * One `sealgate sync` seals, checkpoints and delivers everything; the store is verified and
 * the gate asked. Everything goes to ./demo-out; everything it starts, it stops.
 */
import { execFile } from "node:child_process";
import { copyFile, mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { readZip } from "../bundle/zip-read.js";
import type { CliIO } from "../cli/io.js";
import { runCli } from "../cli/program.js";
import { describeError } from "../errors.js";
import { createDevPki } from "../pki/dev-pki.js";
import { seedMlflow, startMlflowServer } from "./mlflow-server.js";
import { startSimulators } from "./simulators.js";
import { REPO_ROOT } from "./venv.js";

const say = (msg: string) => process.stdout.write(`${msg}\n`);

async function cli(args: string[], okCodes = [0]): Promise<string> {
  const out: string[] = [];
  const io: CliIO = { out: (t) => out.push(t), err: (t) => out.push(t), env: process.env, isTTY: false };
  const code = await runCli(args, io);
  if (!okCodes.includes(code)) throw new Error(`sealgate ${args.join(" ")} exited ${code}:\n${out.join("")}`);
  return out.join("");
}

/** Who signs for each role in the demo organisation. */
const PEOPLE: Record<string, string> = {
  "on-call": "ada.lovelace@example.org",
  "data-governance": "zoe.angstrom@example.org",
  "model-risk": "li.lei@example.org",
  "fair-lending": "aegir.thorsson@example.org",
  "ai-committee": "layla.haddad@example.org",
};

async function main() {
  const out = join(REPO_ROOT, "demo-out");
  await rm(out, { recursive: true, force: true });
  await mkdir(out, { recursive: true });
  say("1/8 creating a development PKI (root, issuing CA, sealing key, five approvers)");
  const pki = await createDevPki(join(out, "pki"));
  say("2/8 starting a real MLflow server (first run installs it into .cache/venv: a few minutes)");
  const server = await startMlflowServer({ log: say });
  const simulators = await startSimulators();
  const { yaml } = simulators;
  const sims = Object.values(simulators.sims);
  try {
    say(`3/8 seeding ${server.url} through the official MLflow Python client`);
    await seedMlflow(server, { bigMb: 16, many: 30 });

    const issuer = "CN=Sealgate Dev Issuing CA, O=Sealgate Demo Org";
    const person = (email: string) => pki.approvers.find((a) => a.email === email)!;
    const policy = (await readFile(join(REPO_ROOT, "config/policy.example.yaml"), "utf8")).replace(
      /approvers:[\s\S]*?(?=\n# Model owners)/,
      `approvers:\n${Object.entries(PEOPLE)
        .map(
          ([role, email]) =>
            `  - { name: "${email}", roles: [${role}], subject: "CN=${person(email).name}, O=Sealgate Demo Org", issuer: "${issuer}", effectiveFrom: "2026-01-01T00:00:00Z" }`,
        )
        .join("\n")}\n`,
    );
    await writeFile(join(out, "policy.yaml"), policy);
    const config = join(out, "sealgate.yaml");
    await writeFile(
      config,
      `mlflow:\n  trackingUri: ${server.url}\n  auth: { type: none }\nstore: { path: store }\npolicy: policy.yaml\ntrust: { anchors: ${pki.trust.anchors}, intermediates: ${pki.trust.intermediates} }\nsealing:\n  key: { type: pem, key: ${pki.sealing.key}, cert: ${pki.sealing.cert} }\n${yaml}`,
    );
    say(`    simulators: ${sims.map((s) => s.url).join(", ")}`);
    say((await cli(["config", "check", "--config", config, "--remote"])).trimEnd().replace(/^/gm, "    "));

    const request = async (name: string, justification: string) => {
      const path = join(out, `${name}.yaml`);
      await writeFile(
        path,
        `justification: ${JSON.stringify(justification)}\nscope: retail lending, EU\nintendedDeployment: nightly batch scoring\nknownLimitations: thin-file applicants are under-represented in the evaluation set\n`,
      );
      return path;
    };
    const review = async (model: string, version: string, justification: string) => {
      const r = JSON.parse(
        await cli([
          "review",
          "--config",
          config,
          "--model",
          model,
          "--version",
          version,
          "--request",
          await request(`request-${model}-${version}`, justification),
          "--json",
        ]),
      ) as {
        package: string;
        tier: string;
        chain: string[];
        reasons: string[];
        cycle: { number: number; changes: unknown[] };
      };
      say(
        `    ${model} v${version}: tier ${r.tier} (${r.chain.join(" -> ")}), cycle ${r.cycle.number}${r.cycle.changes.length ? `, ${r.cycle.changes.length} field(s) changed since the rejection` : ""}`,
      );
      for (const reason of r.reasons) say(`      - ${reason}`);
      return r;
    };
    const sign = async (
      model: string,
      version: string,
      chain: string[],
      decision = "approve",
      comment = "",
    ) => {
      for (const role of chain) {
        const p = person(PEOPLE[role]!);
        await cli([
          "approve",
          "--config",
          config,
          "--model",
          model,
          "--version",
          version,
          "--role",
          role,
          "--decision",
          decision,
          "--condition",
          "targets: prod-eu",
          ...(comment ? ["--comment", comment] : []),
          "--key",
          p.key,
          "--cert",
          p.cert,
        ]);
        say(`      ${decision} as ${role}: ${p.name}`);
        if (decision !== "approve") return;
      }
    };

    say("4/8 three promotions, reviewed and signed as the people would (sealgate review, comment, approve)");
    const retrain = await review(
      "credit-risk",
      "2",
      "Monthly retrain on October data; same features and model class.",
    );
    await sign("credit-risk", "2", retrain.chain);
    const material = await review(
      "credit-risk",
      "3",
      "Adds tenure_months and moves to naive Bayes; AUC improves on the evaluation set.",
    );
    const lei = person(PEOPLE["model-risk"]!);
    await cli([
      "comment",
      "--config",
      config,
      "--model",
      "credit-risk",
      "--version",
      "3",
      "--section",
      "dataset",
      "--clarification",
      "--text",
      "Does the evaluation set cover thin-file applicants?",
      "--key",
      lei.key,
      "--cert",
      lei.cert,
    ]);
    await sign("credit-risk", "3", material.chain);
    const first = await review("fraud-detector", "3", "New fraud model.");
    await sign(
      "fraud-detector",
      "3",
      first.chain.slice(0, 1),
      "reject",
      "The request does not say what changed or why.",
    );

    say(
      "5/8 sealgate sync: seal what is decided (the rejection too), checkpoint, deliver to ServiceNow, Vanta and Archer",
    );
    say((await cli(["sync", "--config", config])).trimEnd().replace(/^/gm, "    "));
    say("    the fraud model is resubmitted with the changes the rejection asked for");
    const second = await review(
      "fraud-detector",
      "3",
      "New fraud model: adds merchant-category features; recall at 1% FPR rises; see the updated explanation.",
    );
    await sign("fraud-detector", "3", second.chain);
    say((await cli(["sync", "--config", config])).trimEnd().replace(/^/gm, "    "));

    say("6/8 sealgate verify --store, and the deployment gate");
    say(
      (
        await cli([
          "verify",
          "--store",
          join(out, "store"),
          "--ca",
          pki.trust.anchors,
          "--intermediates",
          pki.trust.intermediates,
        ])
      )
        .trimEnd()
        .split("\n")
        .slice(-2)
        .join("\n")
        .replace(/^/gm, "    "),
    );
    for (const [model, version] of [
      ["credit-risk", "3"],
      ["fraud-detector", "3"],
    ] as const)
      say(
        (
          await cli([
            "gate",
            "--config",
            config,
            "--model",
            model,
            "--version",
            version,
            "--target",
            "prod-eu",
          ])
        )
          .trimEnd()
          .replace(/^/gm, "    "),
      );

    say(
      "7/8 sealgate export: one signed bundle per promotion, verified offline (sealgate, then openssl alone)",
    );
    const bundles: string[] = [];
    for (const [model, version] of [
      ["credit-risk", "2"],
      ["credit-risk", "3"],
      ["fraud-detector", "3"],
    ] as const) {
      const zip = join(out, "bundles", `${model}-v${version}.zip`);
      await mkdir(join(out, "bundles"), { recursive: true });
      await cli(["export", "--config", config, "--model", model, "--version", version, "--out", zip]);
      const verdict = (await cli(["verify", zip, "--ca", pki.trust.anchors])).trimEnd().split("\n").pop();
      say(`    ${zip}: ${verdict}`);
      bundles.push(zip);
    }
    // Unpack the resubmitted fraud bundle and check the organisation's seal with openssl alone.
    const unpacked = join(out, "bundles", "fraud-detector-v3");
    const files = await readZip(await readFile(bundles[2]!));
    for (const [name, bytes] of files) {
      await mkdir(join(unpacked, name, ".."), { recursive: true });
      await writeFile(join(unpacked, name), bytes);
    }
    await copyFile(pki.trust.anchors, join(unpacked, "org-root.pem"));
    const index = JSON.parse(files.get("bundle.json")!.toString()) as { cycles: { number: number }[] };
    const latest = Math.max(...index.cycles.map((c) => c.number));
    const openssl = `openssl cms -verify -binary -inform DER -in records/${latest}/record.p7s -content records/${latest}/record.json -CAfile org-root.pem -purpose any -out /dev/null`;
    const { stderr } = await promisify(execFile)("sh", ["-c", openssl], { cwd: unpacked });
    say(`    cd ${unpacked} && ${openssl}\n      ${stderr.trim()}`);
    say(
      `    (VERIFY.md in each bundle walks an auditor through every check with openssl and sha256sum only)`,
    );

    say("8/8 summary");
    const status = JSON.parse(await cli(["status", "--config", config, "--json"]));
    say(`    deliveries: ${JSON.stringify(status)}`);
    for (const s of sims)
      say(
        `    ${s.url}: ${s.records().length} record(s), ${s.records().reduce((n, r) => n + r.files.length, 0)} file(s)`,
      );
    say(`    store: ${join(out, "store")}`);
    for (const b of bundles) say(`    bundle: ${b}`);
  } finally {
    await simulators.close();
    await server.stop();
  }
}

main().catch((err) => {
  process.stderr.write(`demo failed: ${describeError(err)}\n`);
  process.exitCode = 1;
});
