/**
 * `npm run demo`: the main job end to end on the embedded default, on a fresh machine.
 * Provisions the MLflow venv, starts a real MLflow server seeded through the official client,
 * creates a development PKI, starts the ServiceNow, Vanta and Archer simulators, and then acts
 * as the people would, through the sealgate CLI: a low-tier retrain approved by on-call, a
 * material change through the full chain, and a change rejected, resubmitted and approved.
 * One `sealgate sync` seals, checkpoints and delivers everything; the store is verified and
 * the gate asked. Everything goes to ./demo-out; everything it starts, it stops: at the end, or
 * with --keep only on Ctrl-C or SIGTERM, so a new user can try the CLI against it first.
 */
import { execFile } from "node:child_process";
import { copyFile, mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { cycleFile, objectPath } from "../bundle/layout.js";
import { readZip } from "../bundle/zip-read.js";
import type { CliIO } from "../cli/io.js";
import { runCli } from "../cli/program.js";
import { describeError } from "../core/errors.js";
import { createDevPki, type DevPkiManifest } from "../crypto/pki/dev-pki.js";
import { opensslCmsVerifyCommand } from "../crypto/sign/cms.js";
import type { PromotionRecord } from "../record/schema.js";
import { contradictions } from "./claims.js";
import { artefactLines } from "./demo-summary.js";
import { type DemoPaths, demoLifecycle, type Running, tryCommands } from "./keep.js";
import { seedMlflow, startMlflowServer } from "./mlflow-server.js";
import { type Simulators, startSimulators } from "./simulators.js";
import { spawnTestTsa } from "./test-tsa.js";
import { REPO_ROOT } from "./venv.js";

const say = (msg: string) => process.stdout.write(`${msg}\n`);

async function cli(args: string[], okCodes = [0]): Promise<string> {
  const out: string[] = [];
  const io: CliIO = { out: (t) => out.push(t), err: (t) => out.push(t), env: process.env, isTTY: false };
  const code = await runCli(args, io);
  if (!okCodes.includes(code)) throw new Error(`sealgate ${args.join(" ")} exited ${code}:\n${out.join("")}`);
  return out.join("");
}

/**
 * What each model's requests say beyond the justification. Claims about metrics, here and in
 * the justifications, are checked against the sealed comparison (sealedEvidence below).
 */
const CONTEXT: Record<string, string> = {
  "credit-risk":
    "scope: retail lending, EU\nintendedDeployment: nightly batch scoring\nknownLimitations: thin-file applicants are under-represented in the evaluation set\n",
  "fraud-detector":
    "scope: card payments, EU\nintendedDeployment: real-time scoring of card authorisations\nknownLimitations: merchant categories new this quarter have few labelled frauds in the evaluation set\n",
};

/** Who signs for each role in the demo organisation. */
const PEOPLE: Record<string, string> = {
  "on-call": "ada.lovelace@example.org",
  "data-governance": "zoe.angstrom@example.org",
  "model-risk": "li.lei@example.org",
  "fair-lending": "aegir.thorsson@example.org",
  "ai-committee": "layla.haddad@example.org",
};

const USAGE =
  "usage: npm run demo [-- --keep]\n  --keep  leave MLflow and the simulators running until Ctrl-C";

async function main(argv: string[]) {
  const keep = argv.includes("--keep");
  const unknown = argv.filter((a) => a !== "--keep");
  if (unknown.length) {
    process.stderr.write(`demo: unknown argument ${unknown.join(" ")}\n${USAGE}\n`);
    return void (process.exitCode = 2);
  }
  const out = join(REPO_ROOT, "demo-out");
  await demoLifecycle({
    keep,
    envFile: join(out, ".env"),
    say,
    run: async (running) => {
      const paths = await run(out, running);
      const gate = { model: "credit-risk", version: "3", target: "prod-eu" };
      return { config: paths.config, commands: tryCommands(paths, gate) };
    },
  });
}

/** What the demo's steps share once everything is running. */
interface Demo {
  out: string;
  config: string;
  pki: DevPkiManifest;
  sims: Simulators["sims"][keyof Simulators["sims"]][];
}

/** The demo in the order it prints its steps; returns what the summary and --keep point to. */
async function run(out: string, running: Running): Promise<DemoPaths> {
  const demo = await start(out, running);
  await reviewAndApprove(demo);
  await syncAndResubmit(demo);
  await verifyAndGate(demo);
  const { bundles, pdfs } = await exportBundles(demo);
  await opensslCheck(demo, bundles[2]!);
  return summary(demo, bundles, pdfs);
}

/** Steps 1-3: a fresh PKI, MLflow and the simulators (each registered to be stopped), and the config. */
async function start(out: string, running: Running): Promise<Demo> {
  await rm(out, { recursive: true, force: true });
  await mkdir(out, { recursive: true });
  say("1/8 creating a development PKI (root, issuing CA, sealing key, five approvers)");
  const pki = await createDevPki(join(out, "pki"));
  say("2/8 starting a real MLflow server (first run installs it into .cache/venv: a few minutes)");
  // Registered as soon as it is spawned: a Ctrl-C while it starts must stop it too.
  const server = await startMlflowServer({
    log: say,
    spawned: (s) => running.add("MLflow", s.url, () => s.stop()),
  });
  // A fixed tag: the config's ${ENV} names read the same in every run and in demo-out/.env.
  const simulators = await startSimulators({}, process.env, "DEMO");
  for (const [name, sim] of Object.entries(simulators.sims))
    running.add(`${name} simulator`, sim.url, () => sim.close());
  const sims = Object.values(simulators.sims);
  const tsa = await spawnTestTsa(pki);
  running.add("time-stamp authority", tsa.url, () => tsa.stop());
  say(
    `    time-stamp authority (tokens by openssl ts -reply): ${tsa.url}; every seal and checkpoint is time-stamped`,
  );
  say(`3/8 seeding ${server.url} through the official MLflow Python client`);
  await seedMlflow(server, { bigMb: 16, many: 30 });

  await writeFile(join(out, "policy.yaml"), await demoPolicy(pki));
  const config = join(out, "sealgate.yaml");
  await writeFile(
    config,
    `mlflow:\n  trackingUri: ${server.url}\n  auth: { type: none }\nstore: { path: store }\npolicy: policy.yaml\ntrust: { anchors: ${pki.trust.anchors}, intermediates: ${pki.trust.intermediates} }\nsealing:\n  key: { type: pem, key: ${pki.sealing.key}, cert: ${pki.sealing.cert} }\ntsa: { url: ${tsa.url}, caFile: ${pki.trust.anchors}, required: true }\n${simulators.yaml}`,
  );
  say(`    simulators: ${sims.map((s) => s.url).join(", ")}`);
  say(indent(await cli(["config", "check", "--config", config, "--remote"])));
  return { out, config, pki, sims };
}

/** The example policy with the demo organisation's approvers in place of its own. */
async function demoPolicy(pki: DevPkiManifest): Promise<string> {
  const issuer = "CN=Sealgate Dev Issuing CA, O=Sealgate Demo Org";
  return (await readFile(join(REPO_ROOT, "config/policy.example.yaml"), "utf8")).replace(
    /approvers:[\s\S]*?(?=\n# Model owners)/,
    `approvers:\n${Object.entries(PEOPLE)
      .map(
        ([role, email]) =>
          `  - { name: "${email}", roles: [${role}], subject: "CN=${person(pki, email).name}, O=Sealgate Demo Org", issuer: "${issuer}", effectiveFrom: "2026-01-01T00:00:00Z" }`,
      )
      .join("\n")}\n`,
  );
}

/** Step 4: three promotions reviewed, commented on and signed as the people would. */
async function reviewAndApprove(demo: Demo) {
  say("4/8 three promotions, reviewed and signed as the people would (sealgate review, comment, approve)");
  const retrain = await review(
    demo,
    "credit-risk",
    "2",
    "Monthly retrain on October data; same features and model class. AUC falls from 0.93 to 0.91 and accuracy falls from 0.88 to 0.86 against the champion; PSI rises from 0.02 to 0.04.",
  );
  await sign(demo, "credit-risk", "2", retrain.chain);
  const material = await review(
    demo,
    "credit-risk",
    "3",
    "Adds tenure_months and moves to naive Bayes, a simpler model at no loss: AUC holds at 0.93 and accuracy holds at 0.88 against the champion; PSI rises from 0.02 to 0.06.",
  );
  const lei = person(demo.pki, PEOPLE["model-risk"]!);
  const asked = await cli([
    "comment",
    "--config",
    demo.config,
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
  say(`      clarification request by ${lei.name} on the dataset section`);
  for (const line of eventLines(asked)) say(`        ${line}`);
  await sign(demo, "credit-risk", "3", material.chain);
  const first = await review(demo, "fraud-detector", "3", "New fraud model.");
  await sign(
    demo,
    "fraud-detector",
    "3",
    first.chain.slice(0, 1),
    "reject",
    "The request does not say what changed or why.",
  );
}

/** Step 5: seal and deliver what is decided, then the rejected model comes back and is approved. */
async function syncAndResubmit(demo: Demo) {
  say(
    "5/8 sealgate sync: seal what is decided (the rejection too), checkpoint, deliver to ServiceNow, Vanta and Archer",
  );
  say(indent(await cli(["sync", "--config", demo.config])));
  say("    the fraud model is resubmitted with the changes the rejection asked for");
  const second = await review(
    demo,
    "fraud-detector",
    "3",
    "New fraud model, retrained on the champion's inputs (same MLmodel signature): precision rises from 0.91 to 0.94 and recall holds at 0.84 against the champion; the explanation shows amount and merchant category drive the score.",
  );
  await sign(demo, "fraud-detector", "3", second.chain);
  say(indent(await cli(["sync", "--config", demo.config])));
}

/** Step 6: the whole store verified, and the deployment gate asked for each model. */
async function verifyAndGate({ out, config, pki }: Demo) {
  say("6/8 sealgate verify --store, and the deployment gate");
  const verified = await cli([
    "verify",
    "--store",
    join(out, "store"),
    "--ca",
    pki.trust.anchors,
    "--intermediates",
    pki.trust.intermediates,
  ]);
  say(indent(verified.trimEnd().split("\n").slice(-2).join("\n")));
  for (const [model, version] of [
    ["credit-risk", "3"],
    ["fraud-detector", "3"],
  ] as const)
    say(
      indent(
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
        ]),
      ),
    );
  // The deployment itself: the gate decision and the alias move become ledger events.
  const promoted = await cli([
    "promote",
    "--config",
    config,
    "--model",
    "credit-risk",
    "--version",
    "3",
    "--alias",
    "production",
    "--target",
    "prod-eu",
    "--fast",
  ]);
  say("    sealgate promote credit-risk v3 to alias production (--fast):");
  for (const line of eventLines(promoted)) say(`      ${line}`);
}

/** Step 7: one bundle per promotion, verified offline, its claims checked and its PDFs copied out. */
async function exportBundles({ out, config, pki }: Demo) {
  say(
    "7/8 sealgate export: one signed bundle per promotion, verified offline (sealgate, then openssl alone)",
  );
  const bundles: string[] = [];
  const pdfs: string[] = [];
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
    pdfs.push(...(await sealedEvidence(zip, `${model}-v${version}`, join(out, "pdfs"))));
  }
  say("    every metric claim in every sealed request text matches its sealed comparison");
  return { bundles, pdfs };
}

/** Unpack a bundle (the resubmitted fraud model's) and check the organisation's seal with openssl alone. */
async function opensslCheck({ out, pki }: Demo, bundle: string) {
  const unpacked = join(out, "bundles", "fraud-detector-v3");
  const files = await readZip(await readFile(bundle));
  for (const [name, bytes] of files) {
    await mkdir(join(unpacked, name, ".."), { recursive: true });
    await writeFile(join(unpacked, name), bytes);
  }
  await copyFile(pki.trust.anchors, join(unpacked, "org-root.pem"));
  const index = JSON.parse(files.get("bundle.json")!.toString()) as { cycles: { number: number }[] };
  const latest = Math.max(...index.cycles.map((c) => c.number));
  const record = JSON.parse(files.get(`records/${latest}/record.json`)!.toString()) as PromotionRecord;
  const openssl = opensslCmsVerifyCommand({
    p7s: `records/${latest}/record.p7s`,
    content: `records/${latest}/record.json`,
    root: "org-root.pem",
    signingTime: record.sealedAt,
    signerOut: "cms-signer.pem",
  });
  const { stderr } = await promisify(execFile)("sh", ["-c", openssl], { cwd: unpacked });
  say(`    cd ${unpacked} && ${openssl}\n      ${stderr.trim()}`);
  say(
    `    (VERIFY.md in each bundle walks an auditor through every check, approvals and time-stamp tokens included, with openssl and coreutils only)`,
  );
}

/** Step 8: delivery status, what each simulator received, and where every artefact is. */
async function summary({ out, config, pki, sims }: Demo, bundles: string[], pdfs: string[]) {
  say("8/8 summary");
  const status = JSON.parse(await cli(["status", "--config", config, "--json"]));
  say(`    deliveries: ${JSON.stringify(status)}`);
  for (const s of sims)
    say(
      `    ${s.url}: ${s.records().length} record(s), ${s.records().reduce((n, r) => n + r.files.length, 0)} file(s)`,
    );
  const paths = {
    config,
    store: join(out, "store"),
    ca: pki.trust.anchors,
    intermediates: pki.trust.intermediates,
    bundle: bundles[1]!,
  };
  for (const line of await artefactLines({ ...paths, bundles, pdfs })) say(`    ${line}`);
  return paths;
}

/** A command's output under a step's line. */
const indent = (text: string) => text.trimEnd().replace(/^/gm, "    ");

const person = (pki: DevPkiManifest, email: string) => pki.approvers.find((a) => a.email === email)!;

/** A command's "<kind> appended to the ledger as entry #N at T ..." lines, digests shortened. */
function eventLines(output: string): string[] {
  return output
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => /appended to the ledger|not in the ledger|not recorded/.test(l))
    .map(shortEvent);
}
const shortEvent = (line: string) => line.replace(/(sha256:[0-9a-f]{12})[0-9a-f]{52}/g, "$1…");

/** `sealgate review` of a version with a request file; prints its tier, chain and reasons. */
async function review({ out, config }: Demo, model: string, version: string, justification: string) {
  const request = join(out, `request-${model}-${version}.yaml`);
  await writeFile(request, `justification: ${JSON.stringify(justification)}\n${CONTEXT[model]}`);
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
      request,
      "--json",
    ]),
  ) as {
    package: string;
    tier: string;
    chain: string[];
    reasons: string[];
    cycle: { number: number; changes: unknown[] };
    event?: string;
  };
  say(
    `    ${model} v${version}: tier ${r.tier} (${r.chain.join(" -> ")}), cycle ${r.cycle.number}${r.cycle.changes.length ? `, ${r.cycle.changes.length} field(s) changed since the rejection` : ""}`,
  );
  for (const reason of r.reasons) say(`      - ${reason}`);
  if (r.event) say(`      ${shortEvent(r.event)}`);
  return r;
}

/** `sealgate approve` by each role of `chain` in turn, stopping at the first decision that is not approve. */
async function sign(
  { config, pki }: Demo,
  model: string,
  version: string,
  chain: string[],
  decision = "approve",
  comment = "",
) {
  for (const role of chain) {
    const p = person(pki, PEOPLE[role]!);
    const approved = await cli([
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
    for (const line of eventLines(approved)) say(`        ${line}`);
    if (decision !== "approve") return;
    // Between approvals, what a reviewer's to-do list shows: who is next, and since when.
    if (role === chain[0] && chain.length > 1) {
      const pending = await cli(["pending", "--config", config]);
      for (const line of pending.trimEnd().split("\n")) say(`        | ${line}`);
    }
  }
}

/**
 * Each cycle's sealed record from a bundle: fail the demo if its request text claims a metric
 * moved in a way its own sealed comparison does not show; copy out its PDFs under readable names.
 */
async function sealedEvidence(zip: string, name: string, pdfDir: string): Promise<string[]> {
  const files = await readZip(await readFile(zip));
  const index = JSON.parse(files.get("bundle.json")!.toString()) as {
    cycles: { number: number; reviewPdf?: string }[];
  };
  const written: string[] = [];
  await mkdir(pdfDir, { recursive: true });
  for (const { number: n, reviewPdf } of index.cycles) {
    const record = JSON.parse(files.get(cycleFile(n, "record.json"))!.toString()) as PromotionRecord;
    for (const [field, text] of Object.entries(record.request).filter(([f]) => f !== "object")) {
      const wrong = contradictions(text, record.challenger);
      if (wrong.length)
        throw new Error(
          `${zip} cycle ${n}: request.${field} contradicts the sealed comparison:\n  ${wrong.join("\n  ")}`,
        );
    }
    const pdfs: [string, Buffer | undefined][] = [
      [`${name}-cycle${n}-record.pdf`, files.get(cycleFile(n, "record.pdf"))],
      [`${name}-cycle${n}-review.pdf`, reviewPdf ? files.get(objectPath(reviewPdf)) : undefined],
    ];
    for (const [file, bytes] of pdfs.filter(([, b]) => b)) {
      await writeFile(join(pdfDir, file), bytes!);
      written.push(join(pdfDir, file));
    }
  }
  return written;
}

main(process.argv.slice(2)).catch((err) => {
  process.stderr.write(`demo failed: ${describeError(err)}\n`);
  process.exitCode = 1;
});
