/**
 * One error base class for all of sealgate. `code` is a stable string that scripts and
 * tests can match on; `exitCode` follows the CLI contract:
 * 0 ok, 1 verification failed or gate denied, 2 usage or config error, 3 external failure.
 *
 * The codes below are sealgate's own. A source or destination keeps its vendor's codes in its
 * own folder (connectors/<kind>/errors.ts): a subclass made by `errorClass` with its own
 * exit-code table, so adding a vendor never touches this file.
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
  EXPORT_UNAVAILABLE: 2,
  // 3: something outside sealgate failed or answered nonsense.
  TSA_FAILED: 3,
  HTTP_STATUS: 3,
  HTTP_CONNECTION: 3,
  HTTP_TIMEOUT: 3,
  HTTP_RETRY_AFTER_TOO_LONG: 3,
  UNSAFE_ARTIFACT_PATH: 3,
  STATE_CORRUPT: 3,
  IO: 3,
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
  // An approval the policy would not count (authority, order, separation of duties, stale
  // package): refused before anything is recorded.
  APPROVAL_REFUSED: 1,
  // A signed event whose claimed time is further from sealgate's append time than
  // events.maxClockSkew allows: refused, nothing appended.
  EVENT_CLOCK_SKEW: 1,
  // A signed event that cannot be appended as it stands (names an object the store lacks, or an
  // assertion that does not match it).
  EVENT_INVALID: 1,
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
  // An append that expected another head: a concurrent writer came first; read again, retry.
  LEDGER_TAIL_MOVED: 2,
  // GRC delivery.
  OUTBOX_LOCKED: 2,
  DELIVERY_FAILED: 3,
  EVIDENCE_INVALID: 1,
} as const;

export type ErrorCode = keyof typeof CODES;
export type ExitCode = 0 | 1 | 2 | 3;
/** Each code of one owner with the exit code the CLI returns for it. */
export type CodeTable<C extends string = string> = Readonly<Record<C, ExitCode>>;

export class SealgateError<C extends string = ErrorCode> extends Error {
  readonly code: C;
  constructor(code: C, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "SealgateError";
    this.code = code;
  }
  get exitCode(): ExitCode {
    return this.codes()[this.code] ?? 3;
  }
  /** The table this class's codes come from; a vendor's subclass returns its own. */
  protected codes(): CodeTable {
    return CODES;
  }
}

/** A SealgateError subclass for one vendor's codes (connectors/<kind>/errors.ts). */
export type VendorErrorClass<C extends string> = new (
  code: C,
  message: string,
  options?: { cause?: unknown },
) => SealgateError<C>;

/**
 * The error class of one vendor: its codes, with their exit codes, live in its own folder.
 * Keep the codes prefixed with the vendor (`ARCHER_…`) so they stay unique across vendors.
 */
export function errorClass<const T extends CodeTable>(table: T): VendorErrorClass<keyof T & string> {
  return class extends SealgateError<keyof T & string> {
    protected override codes(): CodeTable {
      return table;
    }
  };
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
