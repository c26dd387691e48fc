import { createHash } from "node:crypto";
import { resolveDatasets } from "../../source/digest/dataset.js";
import type { ModelManifest } from "../../source/digest/model.js";
import { SealgateError } from "../../core/errors.js";
import { type ModelFacts, route } from "../../policy/materiality.js";
import type { LoadedPolicy } from "../../policy/schema.js";
import { canonicalBytes } from "../../record/canonical.js";
import { type ModelCardRef, packageDigest, type ReviewPackage } from "../../record/schema.js";
import type {
  FileRoot,
  RegistrySource,
  SourceFile,
  SourceRun,
  SourceVersion,
} from "../../source/registry-source.js";
import type { EvidenceStore } from "../../evidence/store/evidence-store.js";
import { TAGS } from "../cycle/tags.js";
import { DEFAULT_MODEL_CARD_PATHS, sealModelCard } from "./model-card.js";
import { previousCycle } from "../cycle/cycle.js";

/*
 * `sealgate review`: everything the approvers need, frozen. Reads the version, its run and the
 * incumbent from the registry, hashes both models' files, stores the explanation bytes, the
 * request text and the manifests as objects, routes by materiality, and returns the package and
 * its digest: the digest approvers sign.
 */

export interface ApprovalRequestText {
  justification: string;
  scope: string;
  intendedDeployment: string;
  knownLimitations: string;
}

export interface AssembleOptions {
  source: RegistrySource;
  store: EvidenceStore;
  policy: LoadedPolicy;
  model: string;
  version: string;
  request: ApprovalRequestText;
  /** Alias naming the incumbent to compare against (default champion). */
  incumbentAlias?: string;
  /** Run artifact holding the explanation; default: the first image or report under explanations/. */
  explanationPath?: string;
  /**
   * The sealed record this package answers (a resubmission after a rejection, or a re-review).
   * Default: the record the version's `sealgate.event` tag points at, if any.
   */
  previous?: string;
  /** Where to look for a model card (model files first, then run artefacts). */
  modelCardPaths?: string[];
  now?: () => Date;
}

const MEDIA: Record<string, "image/png" | "image/jpeg" | "application/json" | "text/html"> = {
  png: "image/png",
  jpg: "image/jpeg",
  jpeg: "image/jpeg",
  json: "application/json",
  html: "text/html",
};

interface Facts {
  manifest: ModelManifest;
  facts: ModelFacts;
  run: SourceRun | null;
}

async function modelFacts(source: RegistrySource, v: SourceVersion): Promise<Facts> {
  const root = await source.modelFiles(v.model, v.version);
  const manifest = await source.hashModel(root);
  const modelClass = await source.modelClass(root, manifest, `${v.model} v${v.version}`);
  const run = v.runId ? await source.run(v.runId) : null;
  const tags = v.tags;
  const facts: ModelFacts = {
    ...modelClass,
    metrics: run ? run.metrics : {},
    tags: { ...(run ? run.tags : {}), ...tags },
    deploymentContext: tags["sealgate.deployment_context"] ?? null,
    featurePipelineVersion: tags["sealgate.feature_pipeline"] ?? tags.feature_pipeline_version ?? null,
  };
  return { manifest, facts, run };
}

/** A model card is small text; anything larger is refused rather than read into memory. */
const MODEL_CARD_MAX_BYTES = 1024 * 1024;

async function findModelCard(
  o: AssembleOptions,
  modelFiles: { name: string; size: number; digest: string }[],
  runRoot: FileRoot,
  runFiles: SourceFile[],
): Promise<ModelCardRef | null> {
  const paths = o.modelCardPaths ?? DEFAULT_MODEL_CARD_PATHS;
  const inModel = paths.map((p) => modelFiles.find((f) => f.name === p)).find(Boolean);
  const inRun = paths.map((p) => runFiles.find((f) => f.path === p)).find(Boolean);
  const found = inModel
    ? { root: await o.source.modelFiles(o.model, o.version), path: inModel.name, size: inModel.size }
    : inRun && { root: runRoot, path: inRun.path, size: inRun.size };
  if (!found) return null;
  const where = `${found.path} of ${o.model} v${o.version}`;
  if (found.size > MODEL_CARD_MAX_BYTES)
    throw new SealgateError(
      "GOVERNANCE_INCOMPLETE",
      `model card ${where} is ${found.size} bytes; the limit is ${MODEL_CARD_MAX_BYTES}`,
    );
  const bytes = Buffer.concat(await (await o.source.open(found.root, found.path)).toArray());
  // A card inside the model was hashed into the content digest: it must be those very bytes.
  if (inModel && createHash("sha256").update(bytes).digest("hex") !== inModel.digest)
    throw new SealgateError("GOVERNANCE_INCOMPLETE", `model card ${where} changed while it was being read`);
  return sealModelCard(bytes, found.path, where, o.store);
}

/** The version under review: READY, hashed, and with the run its evidence comes from. */
async function readyCandidate(o: AssembleOptions) {
  const version = await o.source.version(o.model, o.version);
  if (version.status !== "READY") {
    throw new SealgateError(
      "GOVERNANCE_INCOMPLETE",
      `${o.model} v${o.version} is ${version.status}, not READY`,
    );
  }
  const candidate = await modelFacts(o.source, version);
  const run = candidate.run;
  if (!run)
    throw new SealgateError(
      "GOVERNANCE_INCOMPLETE",
      `${o.model} v${o.version} has no run: no metrics, datasets or explanation to review`,
    );
  return { version, candidate, run };
}

/** The version the alias names today, unless that is the candidate itself. */
async function incumbentOf(o: AssembleOptions, alias: string) {
  const registered = await o.source.model(o.model);
  const incumbentVersion = registered.aliases[alias];
  return incumbentVersion && incumbentVersion !== o.version
    ? {
        version: incumbentVersion,
        ...(await modelFacts(o.source, await o.source.version(o.model, incumbentVersion))),
      }
    : null;
}

/** The explanation artefact, as bytes in the store. */
async function freezeExplanation(o: AssembleOptions, run: SourceRun) {
  const runRoot = await o.source.runFiles(run.id);
  const artifacts = await o.source.list(runRoot);
  const explanation =
    (o.explanationPath && artifacts.find((a) => a.path === o.explanationPath)) ||
    artifacts.find(
      (a) => a.path.startsWith("explanations/") && MEDIA[a.path.split(".").pop()!.toLowerCase()],
    );
  if (!explanation) {
    throw new SealgateError(
      "GOVERNANCE_INCOMPLETE",
      `no explanation artefact for ${o.model} v${o.version}: log a PNG, JPEG, JSON or HTML under explanations/ in run ${run.id}, or name one with --explanation`,
    );
  }
  const stored = await o.store.putStream(await o.source.open(runRoot, explanation.path));
  return {
    runRoot,
    artifacts,
    explanation: {
      object: stored.digest,
      mediaType: MEDIA[explanation.path.split(".").pop()!.toLowerCase()]!,
      name: explanation.path,
      size: stored.size,
    },
  };
}

/** The dataset the metrics were measured on, content-addressed when sealgate can reach it. */
async function evalDataset(o: AssembleOptions, run: SourceRun) {
  const datasets = await resolveDatasets(o.source, run);
  return (
    datasets.find((d) => d.context === "eval") ?? {
      contentAddressed: false as const,
      name: "",
      context: "eval",
      reason: "no dataset was logged with context eval",
      mlflowDigest: "",
      mlflowSource: "",
    }
  );
}

/** The candidate's metrics beside the incumbent's, and their difference where both have one. */
function comparison(candidate: Facts, incumbent: Facts | null) {
  const cand = candidate.facts.metrics;
  const chal = incumbent?.facts.metrics ?? {};
  const delta = Object.fromEntries(
    Object.keys(cand)
      .filter((k) => k in chal)
      .map((k) => [k, cand[k]! - chal[k]!]),
  );
  return { cand, chal, delta };
}

export async function assembleReviewPackage(
  o: AssembleOptions,
): Promise<{ pkg: ReviewPackage; digest: string }> {
  const now = o.now ?? (() => new Date());
  const observedAt = now().toISOString();
  const { version, candidate, run } = await readyCandidate(o);
  const alias = o.incumbentAlias ?? "champion";
  const incumbent = await incumbentOf(o, alias);
  const { runRoot, artifacts, explanation } = await freezeExplanation(o, run);
  const evalSet = await evalDataset(o, run);
  const routing = route(o.policy.policy, {
    candidate: { ...candidate.facts, datasetContentAddressed: evalSet.contentAddressed },
    incumbent: incumbent
      ? {
          ...incumbent.facts,
          deploymentContexts: incumbent.facts.deploymentContext ? [incumbent.facts.deploymentContext] : [],
        }
      : null,
  });
  const { cand, chal, delta } = comparison(candidate, incumbent);
  const modelCard = await findModelCard(o, candidate.manifest.files, runRoot, artifacts);
  const fp = candidate.facts.featurePipelineVersion;
  const pkg: ReviewPackage = {
    type: "sealgate.review-package/1",
    model: {
      registry: o.source.uri,
      name: o.model,
      version: o.version,
      source: version.source,
      runId: version.runId,
      contentDigest: candidate.manifest.root,
      manifest: await o.store.put(canonicalBytes(candidate.manifest, "model manifest")),
    },
    challenger: {
      against: incumbent ? "incumbent" : "none",
      alias: incumbent ? alias : null,
      name: incumbent ? o.model : null,
      version: incumbent?.version ?? null,
      contentDigest: incumbent?.manifest.root ?? null,
      evaluationSet: evalSet.name,
      candidate: cand,
      challenger: chal,
      delta,
    },
    request: { object: await o.store.put(canonicalBytes(o.request, "approval request")), ...o.request },
    explanation,
    dataset: evalSet,
    materiality: routing,
    policy: { digest: o.policy.digest, version: o.policy.policy.version },
    featurePipeline: fp ? { version: fp, digest: null } : null,
    modelCard,
    cycle: { number: 1, previous: null, changes: [] },
    observedAt,
  };
  pkg.cycle = await previousCycle(o.store, pkg, o.previous ?? version.tags[TAGS.event]);
  return { pkg, digest: packageDigest(pkg) };
}
