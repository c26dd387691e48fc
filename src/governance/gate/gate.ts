import { buildManifest, ModelManifest } from "../../source/digest/model.js";
import { HttpStatusError } from "../../core/http/errors.js";
import type { LedgerReader } from "../../evidence/ledger/ledger.js";
import { ledgerView } from "../../evidence/ledger/view.js";
import type { Trust } from "../../crypto/pki/trust.js";
import type { RegistrySource } from "../../source/registry-source.js";
import { PromotionRecord, recordDigest } from "../../record/schema.js";
import type { EvidenceStore } from "../../evidence/store/evidence-store.js";
import type { SealIndex } from "../../evidence/store/seal-index.js";
import { describeFinding, type Finding, type FindingCode, finding } from "../../evidence/verify/findings.js";
import { sealedRecordInStore } from "../../evidence/verify/sealed-in-store.js";
import { type SealedRecord, Verifier } from "../../evidence/verify/verifier.js";
import { conditionViolations, modelCardViolations } from "../../policy/conditions.js";
import { TAGS } from "../cycle/tags.js";

/*
 * The deployment gate: a version may ship only if a sealed, approved, unexpired record covers
 * its current content digest, for this target, with valid signatures and a valid inclusion
 * proof to a signed checkpoint. Anything less is a denial with the reason. The event is a gate,
 * not documentation. The seals and the inclusion proof are the Verifier's to judge; what is the
 * gate's own (this version, this target, these bytes, today) is a finding of the policy step.
 */

export interface GateResult {
  allowed: boolean;
  record?: string;
  /** Everything that denies the version; none when it is allowed. */
  findings: Finding[];
  /** The findings as sentences (describeFinding). */
  reasons: string[];
}

export interface GateDeps {
  source: RegistrySource;
  store: EvidenceStore;
  ledger: LedgerReader;
  index: SealIndex;
  trust: Trust;
  now?: () => Date;
}

const result = (findings: Finding[], record?: string): GateResult => ({
  allowed: findings.length === 0,
  ...(record ? { record } : {}),
  findings,
  reasons: findings.map(describeFinding),
});

const policy = (code: FindingCode, message: string) => finding(code, "policy", message);

export async function gate(
  d: GateDeps,
  model: string,
  version: string,
  opts: { target?: string; fast?: boolean } = {},
): Promise<GateResult> {
  const now = (d.now ?? (() => new Date()))();
  const found = await modelVersionTags(d.source, model, version);
  if (typeof found === "string") return result([policy("NOT_SEALED", found)]);
  const digest = found[TAGS.event];
  if (!digest)
    return result([
      policy(
        "NOT_SEALED",
        `${model} v${version} has no sealed record (no ${TAGS.event} tag): it has not been approved`,
      ),
    ]);

  // The seals over the record, and its inclusion in the ledger proven against a signed checkpoint.
  const view = await ledgerView(d.ledger);
  const { sealed, findings } = await sealedRecordInStore(d.store, d.index, view, digest);
  // A record the store cannot give is denied for that alone: there is nothing to verify or hold it to.
  if (!sealed.record) return result(findings, digest);
  const verified = await new Verifier(d.trust).verify(sealed, { approvals: false });
  findings.push(...verified.findings.map(withRemedy));
  // A record that does not parse has been reported by the Verifier.
  const record = recordOf(sealed);
  if (!record) return result(findings, digest);

  if (record.model.name !== model || record.model.version !== version)
    findings.push(
      policy("WRONG_VERSION", `record ${digest} is for ${record.model.name} v${record.model.version}`),
    );
  if (record.decision !== "approved")
    findings.push(policy("NOT_APPROVED", `the sealed decision is ${record.decision}`));
  for (const v of conditionViolations(record.conditions, new Date(record.sealedAt), now, opts.target))
    findings.push(policy("CONDITION_UNMET", v));
  for (const v of modelCardViolations(record, opts.target)) findings.push(policy("TARGET_NOT_ALLOWED", v));
  findings.push(...(await contentFindings(d, record, model, version, opts.fast)));
  return result(findings, digest);
}

/** What to do about an uncovered entry is the gate's to say: sync signs the checkpoints. */
const withRemedy = (f: Finding): Finding =>
  f.code === "NOT_CHECKPOINTED"
    ? { ...f, message: `${f.message}; run the checkpoint job (sealgate sync) first` }
    : f;

/** The record the Verifier checked, when it is there, parses and is canonical. */
function recordOf(sealed: SealedRecord): PromotionRecord | undefined {
  try {
    const record = PromotionRecord.parse(JSON.parse(Buffer.from(sealed.record!.bytes).toString("utf8")));
    return recordDigest(record) === sealed.digest ? record : undefined;
  } catch {
    return undefined;
  }
}

/** The bytes being deployed must be the bytes that were approved (--fast: their sealed manifest's sizes). */
async function contentFindings(
  d: GateDeps,
  record: PromotionRecord,
  model: string,
  version: string,
  fast?: boolean,
): Promise<Finding[]> {
  const root = await d.source.modelFiles(model, version);
  if (!fast) {
    const current = await d.source.hashModel(root);
    if (current.root === record.model.contentDigest) return [];
    return [
      policy(
        "CONTENT_CHANGED",
        `the model's content digest is now ${current.root}; ${record.model.contentDigest} was approved: the artefact bytes changed after sealing`,
      ),
    ];
  }
  const findings: Finding[] = [];
  const manifest = ModelManifest.parse(
    JSON.parse(Buffer.from(await d.store.get(record.model.manifest as never)).toString("utf8")),
  );
  if (buildManifest(manifest.files).root !== record.model.contentDigest)
    findings.push(
      finding(
        "MANIFEST_MISMATCH",
        "policy",
        "the cached manifest does not hash to the sealed content digest",
        { object: record.model.manifest },
      ),
    );
  const listed = new Map((await d.source.list(root)).map((f) => [f.path, f.size]));
  const changed = manifest.files.filter((f) => listed.get(f.name) !== f.size).map((f) => f.name);
  const extra = [...listed.keys()].filter((p) => !manifest.files.some((f) => f.name === p));
  if (changed.length || extra.length)
    findings.push(
      policy("CONTENT_CHANGED", `model files changed since sealing: ${[...changed, ...extra].join(", ")}`),
    );
  return findings;
}

/** The version's tags, or why it cannot ship: a model or version MLflow does not have is a denial. */
async function modelVersionTags(
  source: RegistrySource,
  model: string,
  version: string,
): Promise<Record<string, string> | string> {
  try {
    return (await source.version(model, version)).tags;
  } catch (err) {
    if (err instanceof HttpStatusError && err.remote.code === "RESOURCE_DOES_NOT_EXIST")
      return `${model} v${version} does not exist in MLflow: ${err.remote.message}`;
    throw err;
  }
}
