import canonicalizeJson from "canonicalize";
import { SealgateError } from "../core/errors.js";

/**
 * RFC 8785 (JCS) canonical bytes, via `canonicalize` (by one of the RFC's authors). Refuses what
 * I-JSON forbids (NaN, Infinity, lone surrogates) instead of writing something unverifiable.
 */
export function canonicalBytes(value: unknown, what = "document"): Uint8Array {
  const lone = findLoneSurrogate(value);
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

/** Where a lone surrogate is, as `.a[0].b` ("" for the root), or null; the path is built on a find only. */
function findLoneSurrogate(v: unknown): string | null {
  const at = loneSurrogateAt(v);
  return at === null ? null : at.reverse().join("");
}

function loneSurrogateAt(v: unknown): string[] | null {
  if (typeof v === "string") return (v as string & { isWellFormed(): boolean }).isWellFormed() ? null : [];
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) {
      const r = loneSurrogateAt(v[i]);
      if (r !== null) return (r.push(`[${i}]`), r);
    }
  } else if (v && typeof v === "object") {
    for (const k in v) {
      if (!Object.hasOwn(v, k)) continue;
      if (!(k as string & { isWellFormed(): boolean }).isWellFormed()) return [".<key>"];
      const r = loneSurrogateAt((v as Record<string, unknown>)[k]);
      if (r !== null) return (r.push(`.${k}`), r);
    }
  }
  return null;
}
