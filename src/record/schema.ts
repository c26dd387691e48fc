import { digestOf } from "../core/digest.js";
import { z } from "zod";
import { DatasetRef } from "./dataset-ref.js";
import { canonicalBytes } from "./canonical.js";

/*
 * The sealed promotion record: the six fields of one promotion decision, each resolvable
 * forever to bytes (objects by SHA-256 in the store), sealed together. The record digest is
 * SHA-256 of its RFC 8785 bytes. Every field an auditor needs is here or one digest away.
 */

export const Digest = z
  .string()
  .regex(/^sha256:[0-9a-f]{64}$/, { message: "expected sha256:<64 lowercase hex>" });
const Iso = z.iso.datetime({ offset: false });
const Version = z.string().regex(/^[1-9]\d*$/);
/** Metric name to value; names may be any Unicode, values finite numbers (I-JSON). */
const Metrics = z.record(z.string().min(1), z.number());

/** (1) The frozen model version: registry identity AND the content digest of its files. */
export const FrozenModel = z.strictObject({
  registry: z.string().describe("MLflow tracking URI the version was read from"),
  name: z.string().min(1),
  version: Version,
  source: z.string().describe("MLflow source URI (a label; the content digest is the identity)"),
  runId: z.string(),
  contentDigest: Digest.describe("OpenSSF model-signing v1.0 root digest of the model files"),
  manifest: Digest.describe("object: the per-file manifest (name, size, SHA-256)"),
});

/** (2) What the version was measured against, on which evaluation set, as computed at promotion. */
export const ChallengerComparison = z.strictObject({
  against: z.enum(["incumbent", "baseline", "none"]),
  alias: z.string().nullable().describe("alias that named the incumbent, e.g. champion"),
  name: z.string().nullable(),
  version: Version.nullable(),
  contentDigest: Digest.nullable(),
  evaluationSet: z.string().describe("name of the evaluation dataset both were measured on"),
  candidate: Metrics,
  challenger: Metrics,
  delta: Metrics.describe("candidate minus challenger, per metric present in both"),
});

/** (3) The approval request the approvers read, stored as an object. */
export const ApprovalRequest = z.strictObject({
  object: Digest,
  justification: z.string(),
  scope: z.string(),
  intendedDeployment: z.string(),
  knownLimitations: z.string(),
});

/** (4) One approver's decision, by certificate identity. */
export const Approval = z.strictObject({
  role: z.string().min(1),
  decision: z.enum(["approve", "reject", "request-changes"]),
  signedAt: Iso,
  identity: z.strictObject({
    subject: z.string(),
    email: z.string(),
    issuer: z.string(),
    fingerprint: z.string().regex(/^[0-9a-f]{64}$/),
  }),
  assertion: Digest.describe("object: the compact JWS the approver signed"),
});

/** (5) The explanation the approver saw, frozen as bytes. Never a URL. */
export const Explanation = z.strictObject({
  object: Digest,
  mediaType: z.enum(["image/png", "image/jpeg", "application/json", "text/html"]),
  name: z.string(),
  size: z.int().nonnegative(),
});

/** One field that differs between a resubmission and the cycle it answers. */
export const CycleChange = z.strictObject({
  path: z.string().describe("dotted path of the field, e.g. request.justification"),
  kind: z.enum(["added", "removed", "changed"]),
  before: z.string().optional().describe("RFC 8785 JSON of the earlier value"),
  after: z.string().optional().describe("RFC 8785 JSON of the new value"),
});

/** Which review cycle this is; a resubmission names the sealed record it answers and what changed. */
export const Cycle = z.strictObject({
  number: z.int().min(1),
  previous: Digest.nullable().describe("record digest of the previous cycle's sealed decision"),
  changes: z.array(CycleChange).describe("structured diff against the previous cycle's record"),
});

/** The model card found among the version's artefacts: what it may be used for, and where. */
export const ModelCardRef = z.strictObject({
  object: Digest.describe("object: the card file's exact bytes"),
  path: z.string(),
  intendedUse: z.string(),
  limitations: z.array(z.string()),
  targets: z.array(z.string()).describe("deployment targets the card declares; the gate allows no other"),
});

/** A reviewer's signed comment on a named section, or a request for clarification. */
export const Annotation = z.strictObject({
  section: z.string(),
  kind: z.enum(["comment", "clarification-request"]),
  text: z.string(),
  signedAt: Iso,
  identity: Approval.shape.identity,
  assertion: Digest.describe("object: the compact JWS the reviewer signed"),
});

export type Cycle = z.infer<typeof Cycle>;
export type ModelCardRef = z.infer<typeof ModelCardRef>;
export type Annotation = z.infer<typeof Annotation>;

/**
 * What the approvers review and sign: every field of the record that exists before the
 * decision. Its digest (SHA-256 of the RFC 8785 bytes) is what approval assertions name; any
 * change to it (new metrics, new bytes, new request text) makes earlier approvals stale.
 */
export const ReviewPackage = z.strictObject({
  type: z.literal("sealgate.review-package/1"),
  model: FrozenModel,
  challenger: ChallengerComparison,
  request: ApprovalRequest,
  explanation: Explanation,
  dataset: DatasetRef,
  materiality: z.strictObject({
    tier: z.string().min(1),
    reasons: z.array(z.string()),
    chain: z.array(z.string()).min(1),
  }),
  policy: z.strictObject({ digest: Digest, version: z.string() }),
  featurePipeline: z.strictObject({ version: z.string(), digest: Digest.nullable() }).nullable(),
  modelCard: ModelCardRef.nullable(),
  cycle: Cycle,
  observedAt: Iso,
});
export type ReviewPackage = z.infer<typeof ReviewPackage>;

export function packageDigest(pkg: ReviewPackage): `sha256:${string}` {
  return digestOf(canonicalBytes(ReviewPackage.parse(pkg), "review package"));
}

/**
 * A sealed cycle's outcome. changes_requested: an approver asked for changes, so the cycle ends
 * there like a rejection and the ML team's resubmission is the next cycle; never deployable.
 */
export const RecordDecision = z.enum(["approved", "rejected", "changes_requested"]);
export type RecordDecision = z.infer<typeof RecordDecision>;

export const PromotionRecord = z.strictObject({
  type: z.literal("sealgate.promotion-record/1"),
  model: FrozenModel,
  challenger: ChallengerComparison,
  request: ApprovalRequest,
  approvals: z.array(Approval),
  explanation: Explanation,
  /** (6) The evaluation dataset by content digest, or an explicit statement that it is not. */
  dataset: DatasetRef,
  decision: RecordDecision,
  materiality: z.strictObject({
    tier: z.string().min(1),
    reasons: z.array(z.string()),
    chain: z.array(z.string()).min(1),
  }),
  /** Digest of the review package the approvers signed. */
  package: Digest,
  policy: z.strictObject({ digest: Digest, version: z.string() }),
  featurePipeline: z.strictObject({ version: z.string(), digest: Digest.nullable() }).nullable(),
  modelCard: ModelCardRef.nullable(),
  conditions: z.array(z.string()),
  /** Signed reviewer comments and clarification requests on this package. */
  annotations: z.array(Annotation),
  cycle: Cycle,
  /** When sealgate read the registry data; never a timestamp taken from the registry. */
  observedAt: Iso,
  /** The real time of sealing. */
  sealedAt: Iso,
});
export type PromotionRecord = z.infer<typeof PromotionRecord>;

/** JWS `typ` of a sealed record's signature (FORMAT.md section 3). */
export const RECORD_JWS_TYP = "vnd.sealgate.record+jws";

/** RFC 8785 bytes of a record, after strict validation. */
export function recordBytes(record: PromotionRecord): Uint8Array {
  return canonicalBytes(PromotionRecord.parse(record), "promotion record");
}

export function recordDigest(record: PromotionRecord): `sha256:${string}` {
  return digestOf(recordBytes(record));
}
