import { HttpStatusError } from "../../core/http/errors.js";
import type { LedgerReader } from "../../evidence/ledger/ledger.js";
import { ledgerView } from "../../evidence/ledger/view.js";
import type { Trust } from "../../crypto/pki/trust.js";
import type { RegistrySource, SourceVersion } from "../../source/registry-source.js";
import { PromotionRecord, recordDigest } from "../../record/schema.js";
import type { EvidenceStore } from "../../evidence/store/evidence-store.js";
import type { SealIndex } from "../../evidence/store/seal-index.js";
import { describeFinding, type Finding, type FindingCode, finding } from "../../evidence/verify/findings.js";
import { sealedRecordInStore } from "../../evidence/verify/sealed-in-store.js";
import { type SealedRecord, Verifier } from "../../evidence/verify/verifier.js";
import { conditionViolations, modelCardViolations } from "../../policy/conditions.js";
import { TAGS } from "../cycle/tags.js";
import { checkContent, type ContentCheck, type ContentOptions } from "./content.js";

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
  /**
   * Why, as sentences: every finding (describeFinding), and first, when --fast fell back to a
   * full re-hash, each thing that made it fall back (FAST_FALLBACK), even when the re-hash allowed.
   */
  reasons: string[];
  /** How the bytes were judged; absent when the gate denied before looking at them. */
  content?: { method: ContentCheck["method"]; fallback: string[] };
  /** The review cycle of the record judged, when there is one. */
  cycle?: number;
}

export interface GateDeps {
  source: RegistrySource;
  store: EvidenceStore;
  ledger: LedgerReader;
  index: SealIndex;
  trust: Trust;
  now?: () => Date;
}

const result = (
  findings: Finding[],
  record?: string,
  more: { content?: ContentCheck; cycle?: number } = {},
): GateResult => ({
  allowed: findings.length === 0,
  ...(record ? { record } : {}),
  findings,
  reasons: [
    ...(more.content?.fallback ?? []).map((why) => `FAST_FALLBACK: ${why}; re-hashed in full instead`),
    ...findings.map(describeFinding),
  ],
  ...(more.content ? { content: { method: more.content.method, fallback: more.content.fallback } } : {}),
  ...(more.cycle !== undefined ? { cycle: more.cycle } : {}),
});

const policy = (code: FindingCode, message: string) => finding(code, "policy", message);

export async function gate(
  d: GateDeps,
  model: string,
  version: string,
  opts: { target?: string } & ContentOptions = {},
): Promise<GateResult> {
  const now = (d.now ?? (() => new Date()))();
  const live = await liveVersion(d.source, model, version);
  if (typeof live === "string") return result([policy("NOT_SEALED", live)]);
  const digest = live.tags[TAGS.event];
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
  const content = await checkContent(d, record, live, opts);
  findings.push(...content.findings);
  return result(findings, digest, { content, cycle: record.cycle.number });
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

/** The version as the registry holds it now, or why it cannot ship: one MLflow does not have is a denial. */
async function liveVersion(
  source: RegistrySource,
  model: string,
  version: string,
): Promise<SourceVersion | string> {
  try {
    return await source.version(model, version);
  } catch (err) {
    if (err instanceof HttpStatusError && err.remote.code === "RESOURCE_DOES_NOT_EXIST")
      return `${model} v${version} does not exist in MLflow: ${err.remote.message}`;
    throw err;
  }
}
