import { createHash } from "node:crypto";
import type { Readable } from "node:stream";

/** `sha256:<64 lowercase hex>`: how sealgate names every object. */
export type Digest = `sha256:${string}`;

export const DIGEST_RE = /^sha256:[0-9a-f]{64}$/;

export function isDigest(s: unknown): s is Digest {
  return typeof s === "string" && DIGEST_RE.test(s);
}

/** The digest that names these bytes. */
export function digestOf(bytes: Uint8Array): Digest {
  return `sha256:${createHash("sha256").update(bytes).digest("hex")}`;
}

/**
 * Content-addressed, write-once storage for evidence objects (records, signatures, PDFs,
 * explanation plots, manifests). The embedded default is a directory; an S3 Object Lock
 * backend can implement the same interface.
 */
export interface ObjectStore {
  /** Store bytes; returns their digest. Storing the same bytes again is a no-op. */
  put(bytes: Uint8Array): Promise<Digest>;
  /** Store a stream without holding it in memory. */
  putStream(stream: Readable): Promise<{ digest: Digest; size: number }>;
  /** The bytes of an object, re-hashed on the way out; a mismatch is an error. */
  get(digest: Digest): Promise<Uint8Array>;
  /** A stream of the object that errors at the end if the bytes do not hash to `digest`. */
  open(digest: Digest): Promise<Readable>;
  has(digest: Digest): Promise<boolean>;
  /** Every stored digest, in no particular order. */
  list(): AsyncIterable<Digest>;
}
