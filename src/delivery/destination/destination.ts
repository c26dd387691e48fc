/*
 * The one extension point for GRC destinations. A destination knows its vendor's API; the
 * delivery engine (src/delivery/engine/) knows ordering, idempotency, retries and the outbox. The
 * engine drives every delivery as: find by correlation -> create if missing -> list files ->
 * upload each missing file -> finish. Each step must be safe to repeat after a crash.
 */

/** One file a destination receives, with the digest the engine checks against the store. */
export interface EvidenceFile {
  /** File name as it appears remotely (unique within one delivery). */
  name: string;
  mediaType: string;
  bytes: Uint8Array;
  /** Lowercase hex SHA-256 of bytes. */
  sha256: string;
}

/** Field values after the admin's mapping was applied: target field name -> value. */
export type MappedFields = Record<string, string | number | boolean | null>;

/** What one sealed record becomes for one destination. */
export interface Delivery {
  /** The record digest ("sha256:..."): the correlation value looked up before creating. */
  correlation: string;
  fields: MappedFields;
  files: EvidenceFile[];
}

/** The remote record's identity, persisted in the outbox once known. */
export interface RemoteRef {
  id: string;
  url?: string;
}

/** A file already attached remotely; size or sha256 when the API reports them. */
export interface RemoteFile {
  name: string;
  size?: number;
  sha256?: string;
}

/** One problem `config check --remote` found in a mapping against the live target. */
export interface MappingFinding {
  field: string;
  problem: "unknown-field" | "wrong-type" | "required-missing" | "read-only" | "other";
  detail: string;
}

export interface Destination {
  /** Connector kind, e.g. "servicenow". */
  readonly kind: string;
  /** The admin's name for this destination in config. */
  readonly name: string;
  /**
   * Once before deliveries: authenticate, resolve metadata (Archer field ids), and prove the
   * correlation lookup is trustworthy (ServiceNow ignores unknown query fields). Throws a
   * SealgateError naming the config path to fix when it is not.
   */
  prepare(): Promise<void>;
  /** The remote record carrying this correlation value, or null. Never a guess. */
  find(correlation: string): Promise<RemoteRef | null>;
  create(delivery: Delivery): Promise<RemoteRef>;
  listFiles(ref: RemoteRef): Promise<RemoteFile[]>;
  upload(ref: RemoteRef, file: EvidenceFile): Promise<void>;
  /** Optional last step (Vanta's submit); must be idempotent. */
  finish?(ref: RemoteRef, delivery: Delivery): Promise<void>;
  /** Compare mapped field names (and the correlation field) with the live target's metadata. */
  checkMapping(fields: string[]): Promise<MappingFinding[]>;
  /** Release sockets and sessions (Archer logout). */
  close(): Promise<void>;
}
