/**
 * One error base class for all of sealgate. `code` is a stable string that scripts and
 * tests can match on; `exitCode` follows the CLI contract:
 * 0 ok, 1 verification failed or gate denied, 2 usage or config error, 3 external failure.
 */

const CODES = {
  // 2: the user can fix it by changing the command line or the config.
  USAGE: 2,
  CONFIG_INVALID: 2,
  SECRET_UNRESOLVED: 2,
  KEY_UNSUPPORTED: 2,
  KEY_UNREADABLE: 2,
  KEY_CERT_MISMATCH: 2,
  TRUST_INVALID: 2,
  CANONICAL_JSON_INVALID: 2,
  MODEL_UNSUPPORTED: 2,
  GOVERNANCE_INCOMPLETE: 2,
  SERVICENOW_AUTH_FAILED: 2,
  SERVICENOW_TARGET_INVALID: 2,
  ARCHER_LOGIN_FAILED: 2,
  ARCHER_MAPPING_INVALID: 2,
  EXPORT_UNAVAILABLE: 2,
  // 3: something outside sealgate failed or answered nonsense.
  TSA_FAILED: 3,
  HTTP_STATUS: 3,
  HTTP_CONNECTION: 3,
  HTTP_TIMEOUT: 3,
  HTTP_RETRY_AFTER_TOO_LONG: 3,
  MLFLOW_RESPONSE_INVALID: 3,
  MLFLOW_UNSUPPORTED_ARTIFACT_URI: 3,
  SERVICENOW_RESPONSE_INVALID: 3,
  UNSAFE_ARTIFACT_PATH: 3,
  STATE_CORRUPT: 3,
  IO: 3,
  ARCHER_REJECTED: 3,
  ARCHER_RESPONSE_INVALID: 3,
  ARCHER_DUPLICATE_RECORD: 3,
  // 1: evidence or a signed request did not verify.
  WEBHOOK_SIGNATURE_INVALID: 1,
  WEBHOOK_TIMESTAMP_STALE: 1,
  WEBHOOK_REPLAYED: 1,
  WEBHOOK_PAYLOAD_INVALID: 1,
  WEBHOOK_TOO_LARGE: 1,
  // Certificates: each names exactly what failed in path validation (RFC 5280).
  CERT_EXPIRED: 1,
  CERT_NOT_YET_VALID: 1,
  CERT_UNTRUSTED_ROOT: 1,
  CERT_BAD_SIGNATURE: 1,
  CERT_NOT_CA: 1,
  CERT_PATH_TOO_LONG: 1,
  CERT_BAD_KEY_USAGE: 1,
  CERT_BAD_EXTENDED_KEY_USAGE: 1,
  CERT_REVOKED: 1,
  CERT_MALFORMED: 1,
  // Signatures over sealgate's documents.
  SIGNATURE_INVALID: 1,
  SIGNATURE_MALFORMED: 1,
  SIGNATURE_ALGORITHM_MISMATCH: 1,
  TIMESTAMP_INVALID: 1,
  // Evidence store and ledger.
  OBJECT_CORRUPT: 1,
  OBJECT_MISSING: 1,
  LEDGER_CORRUPT: 1,
  CHECKPOINT_INVALID: 1,
  // Bundles: a zip refused before reading (hostile or malformed), or unreadable contents.
  BUNDLE_UNSAFE: 1,
  BUNDLE_INVALID: 1,
  // Another sealgate holds the store: a state the operator resolves, hence 2.
  LEDGER_LOCKED: 2,
  // GRC delivery.
  OUTBOX_LOCKED: 2,
  DELIVERY_FAILED: 3,
  EVIDENCE_INVALID: 1,
  // GRC destinations.
  VANTA_AUTH_FAILED: 2,
  VANTA_RESPONSE_INVALID: 3,
} as const;

export type ErrorCode = keyof typeof CODES;
export type ExitCode = 0 | 1 | 2 | 3;

export class SealgateError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "SealgateError";
    this.code = code;
  }
  get exitCode(): ExitCode {
    return CODES[this.code];
  }
}

/** Exit code for anything thrown: unknown errors are bugs or environment failures, so 3. */
export function exitCodeOf(err: unknown): ExitCode {
  return err instanceof SealgateError ? err.exitCode : 3;
}

/**
 * Message chain `a: b: c` of an error and its causes, for one-line CLI output. A cause whose
 * message its parent already quotes is left out, so no text is printed twice.
 */
export function describeError(err: unknown): string {
  const parts: string[] = [];
  let e: unknown = err;
  for (let depth = 0; e && depth < 5; depth++) {
    const message = e instanceof Error ? e.message : String(e);
    if (!parts.at(-1)?.includes(message)) parts.push(message);
    e = e instanceof Error ? e.cause : undefined;
  }
  return parts.join(": ");
}
