import { createHash } from "node:crypto";

/*
 * How sealgate names bytes. Records, policies, ledger entries and the store all use these
 * names, so they sit at the bottom: naming bytes needs no store.
 */

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
