import type { Readable } from "node:stream";
import type { Digest } from "../../core/digest.js";

/**
 * Content-addressed, write-once storage for evidence objects (records, signatures, PDFs,
 * explanation plots, manifests). The embedded default is a directory (FsObjectStore); a
 * PostgreSQL or S3 Object Lock backend implements this same interface, and callers take it,
 * never a class or a path.
 */
export interface EvidenceStore {
  /** Store bytes; returns their digest. Storing the same bytes again is a no-op. */
  put(bytes: Uint8Array): Promise<Digest>;
  /**
   * Store bytes unless present, as one atomic step: of concurrent callers with the same bytes
   * (in this process or another), exactly one sees `created: true`.
   */
  putIfAbsent(bytes: Uint8Array): Promise<{ digest: Digest; created: boolean }>;
  /** Store a stream without holding it in memory; `created` as for putIfAbsent. */
  putStream(stream: Readable): Promise<{ digest: Digest; size: number; created: boolean }>;
  /** The bytes of an object, re-hashed on the way out; a mismatch is OBJECT_CORRUPT. */
  get(digest: Digest): Promise<Uint8Array>;
  /** A stream of the object that errors (OBJECT_CORRUPT) at the end if the bytes do not hash to `digest`. */
  open(digest: Digest): Promise<Readable>;
  /**
   * Up to `length` bytes of an object from `start` (a negative start counts from its end), not
   * re-hashed: for sniffing a few bytes (a file header, a PDF trailer) across many objects
   * without reading each whole. Whatever is then relied on is read with get() or open().
   */
  peek(digest: Digest, start: number, length: number): Promise<Uint8Array>;
  has(digest: Digest): Promise<boolean>;
  /**
   * SHA-256 of each object's bytes as stored, without failing when it differs from its name:
   * what `verify --store` compares with the name, for every object. A batch, so a backend can
   * hash many objects per trip to another thread or server and keep every core busy; each
   * result is the digest and size, or the error reading it (OBJECT_MISSING if absent).
   */
  hashStored(digests: Digest[]): Promise<({ actual: Digest; size: number } | { error: unknown })[]>;
  /** Every stored digest, in no particular order. */
  list(): AsyncIterable<Digest>;
  /**
   * Optional, for `verify --store`: list() and hashStored() in one pass, a batch at a time, so a
   * backend can list and hash where the bytes are and send back little more than the names.
   */
  hashEvery?(): AsyncIterable<StoredHashes>;
  /**
   * Optional: the bytes of many objects at once, each re-hashed, each as get() returns it or the
   * error get() throws; a batch, so a backend can read them off the main thread in one trip.
   */
  getMany?(digests: Digest[]): Promise<(Uint8Array | { error: unknown })[]>;
}

/** One batch of hashEvery(): the digests listed, and those whose bytes are not what they name. */
export interface StoredHashes {
  listed: Digest[];
  /** How many of the listed objects were read, and their bytes. */
  objects: number;
  bytes: number;
  corrupt: { digest: Digest; actual: Digest }[];
  unreadable: { digest: Digest; error: unknown }[];
}
