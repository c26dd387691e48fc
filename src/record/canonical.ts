import canonicalizeJson from "canonicalize";
import { SealgateError } from "../errors.js";

/**
 * RFC 8785 (JCS) canonical bytes, via `canonicalize` (by one of the RFC's authors). Refuses what
 * I-JSON forbids (NaN, Infinity, lone surrogates) instead of writing something unverifiable.
 */
export function canonicalBytes(value: unknown, what = "document"): Uint8Array {
  const lone = findLoneSurrogate(value, "");
  if (lone !== null) {
    throw new SealgateError(
      "CANONICAL_JSON_INVALID",
      `${what} at ${lone || "(root)"} holds a lone surrogate, which I-JSON forbids`,
    );
  }
  let text: string | undefined;
  try {
    text = canonicalizeJson(value);
  } catch (cause) {
    throw new SealgateError(
      "CANONICAL_JSON_INVALID",
      `${what} cannot be canonicalized (RFC 8785): ${(cause as Error).message}`,
      { cause },
    );
  }
  if (text === undefined) throw new SealgateError("CANONICAL_JSON_INVALID", `${what} is not JSON`);
  return new TextEncoder().encode(text);
}

function findLoneSurrogate(v: unknown, path: string): string | null {
  if (typeof v === "string") return (v as string & { isWellFormed(): boolean }).isWellFormed() ? null : path;
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) {
      const r = findLoneSurrogate(v[i], `${path}[${i}]`);
      if (r !== null) return r;
    }
  } else if (v && typeof v === "object") {
    for (const [k, x] of Object.entries(v)) {
      if (!(k as string & { isWellFormed(): boolean }).isWellFormed()) return `${path}.<key>`;
      const r = findLoneSurrogate(x, `${path}.${k}`);
      if (r !== null) return r;
    }
  }
  return null;
}
