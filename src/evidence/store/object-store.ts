import type { Readable } from "node:stream";
import type { Digest } from "../../core/digest.js";

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
