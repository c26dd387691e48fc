import { readFile } from "node:fs/promises";
import { resolve } from "node:path";
import type { Command } from "commander";
import { parse as parseYaml } from "yaml";
import { z } from "zod";
import { SOURCES } from "../../../connectors/sources.js";
import { formatIssues } from "../../core/zod-issues.js";
import { loadConfig } from "../../app/config/load.js";
import { objectFile, openEvidenceStore } from "../../app/store.js";
import { SealgateError } from "../../core/errors.js";
import { assembleReviewPackage } from "../../governance/review/assemble.js";
import { SealIndex } from "../../evidence/store/seal-index.js";
import { renderReviewPdf } from "../../governance/seal/seal-pdf.js";
import { TAGS } from "../../governance/cycle/tags.js";
import { type LoadedPolicy, loadPolicy } from "../../policy/schema.js";
import { canonicalBytes } from "../../record/canonical.js";
import type { ReviewPackage } from "../../record/schema.js";
import type { RegistrySource } from "../../source/registry-source.js";
import type { EvidenceStore } from "../../evidence/store/evidence-store.js";
import type { Digest } from "../../core/digest.js";
import type { CliIO } from "../io.js";
import { recordSystemEvent } from "../system-event.js";
import type { SealgateConfig } from "../../app/config/schema.js";

const RequestFile = z.strictObject({
  justification: z.string().min(1),
  scope: z.string().min(1),
  intendedDeployment: z.string().min(1),
  knownLimitations: z.string(),
});

interface Options {
  config: string;
  model: string;
  version: string;
  request: string;
  incumbentAlias?: string;
  explanation?: string;
  previous?: string;
  json?: boolean;
}

async function readRequest(path: string) {
  let raw: unknown;
  try {
    raw = parseYaml(await readFile(path, "utf8"));
  } catch (cause) {
    throw new SealgateError("USAGE", `--request ${path}: cannot read it as YAML or JSON`, { cause });
  }
  const r = RequestFile.safeParse(raw);
  if (!r.success)
    throw new SealgateError("USAGE", `--request ${path} is incomplete:\n${formatIssues(r.error.issues)}`);
  return r.data;
}

export function registerReview(program: Command, io: CliIO): void {
  program
    .command("review")
    .description(
      "assemble the review package of a model version, render its PDF, and record its digest in MLflow",
    )
    .requiredOption("--config <file>", "sealgate config (mlflow, store.path and policy are used)")
    .requiredOption("--model <name>", "registered model name")
    .requiredOption("--version <n>", "model version")
    .requiredOption(
      "--request <file>",
      "approval request: YAML with justification, scope, intendedDeployment, knownLimitations",
    )
    .option("--incumbent-alias <alias>", "alias of the version to compare against", "champion")
    .option(
      "--explanation <path>",
      "run artifact to freeze as the explanation (default: first under explanations/)",
    )
    .option(
      "--previous <digest>",
      "sealed record this resubmission answers (default: the one the version's sealgate.event tag names)",
    )
    .option("--json", "print the package digest, tier and objects as JSON")
    .addHelpText(
      "after",
      `
Approvers sign the package digest this prints (sealgate approve). If anything in the package
changes later (metrics, artefact bytes, request text), run review again: the digest changes
and approvals of the old package no longer count.

Example:
  $ sealgate review --config sealgate.yaml --model credit-risk --version 3 --request request.yaml`,
    )
    .action((opts: Options) => runReview(opts, io));
}

/** Assemble the package, store it and its PDF, point the registry at them, and say what was frozen. */
async function runReview(opts: Options, io: CliIO): Promise<void> {
  const config = await loadConfig(opts.config);
  if (!config.store || !config.policy) {
    throw new SealgateError("CONFIG_INVALID", `config ${opts.config}: review needs store.path and policy`);
  }
  const request = await readRequest(opts.request);
  const policy = await loadPolicy(resolve(opts.config, "..", config.policy));
  const storeRoot = resolve(opts.config, "..", config.store.path);
  const store = await openEvidenceStore(storeRoot);
  const source = SOURCES.mlflow.create(config.mlflow, { env: io.env });
  try {
    const { pkg, digest } = await assembleReviewPackage({
      source,
      store,
      policy,
      model: opts.model,
      version: opts.version,
      request,
      ...(opts.incumbentAlias ? { incumbentAlias: opts.incumbentAlias } : {}),
      ...(opts.explanation ? { explanationPath: opts.explanation } : {}),
      ...(opts.previous ? { previous: opts.previous } : {}),
      modelCardPaths: config.modelCard.paths,
    });
    const pdfDigest = await storeAndTag({ opts, store, storeRoot, source, policy, pkg, digest });
    const opened = await appendReviewOpened({ opts, config, io, store, pkg, digest, pdfDigest });
    printSummary(io, opts, pkg, digest, pdfDigest, objectFile(storeRoot, pdfDigest), opened);
  } finally {
    await source.close();
  }
}

/** Store the package and its PDF, index the PDF for export, and tag the version with both. */
async function storeAndTag(o: {
  opts: Options;
  store: EvidenceStore;
  storeRoot: string;
  source: RegistrySource;
  policy: LoadedPolicy;
  pkg: ReviewPackage;
  digest: string;
}): Promise<Digest> {
  const { opts, store, pkg, digest } = o;
  const stored = await store.put(canonicalBytes(pkg, "review package"));
  if (stored !== digest) throw new Error(`package digest mismatch: ${stored} != ${digest}`);
  const pdf = await renderReviewPdf(store, pkg, digest, o.policy.policy.thresholds);
  const pdfDigest = await store.put(pdf);
  // Export takes this very file by its digest (see bundle/review-pdf.ts).
  await (await SealIndex.open(o.storeRoot)).addReviewPdf({ package: digest, pdf: pdfDigest });
  await o.source.setTags(opts.model, opts.version, {
    [TAGS.package]: digest,
    [TAGS.packagePdf]: pdfDigest,
    [TAGS.state]: "pending_review",
    [TAGS.tier]: pkg.materiality.tier,
  });
  return pdfDigest;
}

/**
 * The review-opened event, naming the package and the PDF the approvers will read: sealgate's own
 * event, signed with the sealing key, appended at once (directly, or through the daemon). Without
 * a usable sealing key here, the review stands and the output says no event was recorded.
 */
async function appendReviewOpened(o: {
  opts: Options;
  config: SealgateConfig;
  io: CliIO;
  store: EvidenceStore;
  pkg: ReviewPackage;
  digest: string;
  pdfDigest: Digest;
}): Promise<string> {
  const { opts } = o;
  const { line } = await recordSystemEvent({
    config: o.config,
    configPath: opts.config,
    io: o.io,
    store: o.store,
    event: {
      type: "sealgate.event/1",
      kind: "review-opened",
      model: opts.model,
      version: opts.version,
      cycle: o.pkg.cycle.number,
      actor: "sealgate",
      claimedTime: new Date().toISOString(),
      package: o.digest as Digest,
      reviewPdf: o.pdfDigest,
    },
  });
  return line;
}

function printSummary(
  io: CliIO,
  opts: Options,
  pkg: ReviewPackage,
  digest: string,
  pdfDigest: Digest,
  pdfPath: string,
  event: string,
): void {
  const summary = {
    package: digest,
    pdf: pdfDigest,
    tier: pkg.materiality.tier,
    chain: pkg.materiality.chain,
    reasons: pkg.materiality.reasons,
    cycle: pkg.cycle,
    modelCard: pkg.modelCard,
    pdfPath,
    event,
  };
  if (opts.json) return void io.out(`${JSON.stringify(summary, null, 2)}\n`);
  io.out(`review package for ${opts.model} v${opts.version}: ${digest}\n`);
  io.out(`  tier ${summary.tier}: ${summary.chain.join(" -> ")}\n`);
  for (const r of summary.reasons) io.out(`  - ${r}\n`);
  if (pkg.cycle.previous)
    io.out(
      `  cycle ${pkg.cycle.number}, answering ${pkg.cycle.previous}: ${pkg.cycle.changes.length} field(s) changed\n`,
    );
  if (pkg.modelCard)
    io.out(`  model card ${pkg.modelCard.path}: targets ${pkg.modelCard.targets.join(", ")}\n`);
  io.out(`  PDF ${pdfDigest} (${summary.pdfPath})\n`);
  io.out(`  ${event}\n`);
}
