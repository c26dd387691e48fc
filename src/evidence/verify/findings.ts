import { type ErrorCode, SealgateError } from "../../core/errors.js";

/*
 * One result type for every verification sealgate does (store, gate, evidence, bundle): a
 * finding names what failed with a stable code, the step of the verifier it failed in, a
 * sentence, and where it applies. The verifier reports all of them, never only the first.
 */

/** The verifier's steps, in the order they run (container: the bytes are there and parse). */
export const STEPS = [
  "container",
  "timestamps",
  "certificates",
  "signatures",
  "inclusion",
  "policy",
] as const;
export type Step = (typeof STEPS)[number];

const CERT_CODES = [
  "CERT_EXPIRED",
  "CERT_NOT_YET_VALID",
  "CERT_UNTRUSTED_ROOT",
  "CERT_BAD_SIGNATURE",
  "CERT_NOT_CA",
  "CERT_PATH_TOO_LONG",
  "CERT_BAD_KEY_USAGE",
  "CERT_BAD_EXTENDED_KEY_USAGE",
  "CERT_REVOKED",
  "CERT_MALFORMED",
] as const satisfies readonly ErrorCode[];

export const FINDING_CODES = [
  "TIMESTAMP_INVALID",
  ...CERT_CODES,
  "SIGNER_MISMATCH",
  "SIGNATURE_INVALID",
  "SIGNATURE_MALFORMED",
  "SIGNATURE_ALGORITHM_MISMATCH",
  "PAYLOAD_MISMATCH",
  "NOT_CANONICAL",
  "ENTRY_MALFORMED",
  "ENTRY_SEQUENCE",
  "ENTRY_CHAIN_BROKEN",
  "ENTRY_TIME_BACKWARDS",
  "LEDGER_TORN_TAIL",
  "LEDGER_TRUNCATED",
  "CHECKPOINT_INVALID",
  "CHECKPOINT_ROOT_MISMATCH",
  "NOT_IN_LEDGER",
  "NOT_CHECKPOINTED",
  "INCLUSION_INVALID",
  "APPROVAL_INVALID",
  "APPROVAL_MISMATCH",
  "PACKAGE_MISMATCH",
  "POLICY_MISMATCH",
  "WRONG_VERSION",
  "NOT_APPROVED",
  "CONDITION_UNMET",
  "TARGET_NOT_ALLOWED",
  "CONTENT_CHANGED",
  "FAST_CHECK_FAILED",
  "NOT_SEALED",
  "OBJECT_MISSING",
  "OBJECT_CORRUPT",
  "OBJECT_UNREADABLE",
  "OBJECT_UNREFERENCED",
  "SEAL_INVALID",
  "RENDERINGS_UNKNOWN",
  "RECORD_INVALID",
  "DIGEST_MISMATCH",
  "BUNDLE_UNSAFE",
  "BUNDLE_INVALID",
  "EVIDENCE_INVALID",
  "MANIFEST_MISMATCH",
  "CONTENTS_MISMATCH",
  "HISTORY_BROKEN",
  "INSTRUCTIONS_DIFFER",
  "LOG_INCONSISTENT",
] as const;
export type FindingCode = (typeof FINDING_CODES)[number];

const isFindingCode = (c: string): c is FindingCode => (FINDING_CODES as readonly string[]).includes(c);

/** Where a finding applies: a ledger entry (= seq), a checkpoint (line of checkpoints.log), an object, a bundle member, a cycle. */
export interface Where {
  entry?: number;
  checkpoint?: number;
  object?: string;
  member?: string;
  cycle?: number;
}

/** One thing that did not verify, and exactly where. */
export interface Finding {
  code: FindingCode;
  step: Step;
  message: string;
  where: Where;
}

export function finding(code: FindingCode, step: Step, message: string, where: Where = {}): Finding {
  return { code, step, message, where };
}

/**
 * A thrown error as a finding: a SealgateError whose code is a finding code keeps it (a
 * certificate's CERT_*, a signature's SIGNATURE_*); anything else takes `fallback`.
 */
export function findingOf(err: unknown, step: Step, where: Where, fallback: FindingCode): Finding {
  const code = err instanceof SealgateError && isFindingCode(err.code) ? err.code : fallback;
  return finding(code, step, (err as Error)?.message ?? String(err), where);
}

export function describeWhere(w: Where): string {
  return [
    w.cycle !== undefined ? `cycle ${w.cycle}` : "",
    w.entry !== undefined ? `entry ${w.entry}` : "",
    w.checkpoint !== undefined ? `checkpoint ${w.checkpoint}` : "",
    w.object ? `object ${w.object}` : "",
    w.member ? w.member : "",
  ]
    .filter(Boolean)
    .join(", ");
}

export function describeFinding(f: Finding): string {
  const where = describeWhere(f.where);
  return `${f.code}${where ? ` (${where})` : ""}: ${f.message}`;
}
