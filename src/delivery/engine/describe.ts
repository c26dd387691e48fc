import { describeError, SealgateError } from "../../core/errors.js";
import { HttpStatusError } from "../../core/http/errors.js";

/*
 * A delivery error in words. One about credentials (the remote answered 401 or 403, or the
 * connector could not read its secret) is the operator's to fix in one destination's config,
 * so it names that destination and its kind: a daemon with several destinations of one kind
 * would otherwise leave them guessing which token expired.
 */

/** True when `err`, or an error it wraps, is a credential refusal or an unreadable secret. */
export function isCredentialError(err: unknown): boolean {
  for (let e = err, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    if (e instanceof HttpStatusError && (e.status === 401 || e.status === 403)) return true;
    if (e instanceof SealgateError && e.code === "SECRET_UNRESOLVED") return true;
  }
  return false;
}

/** `err` as stored and logged for destination `name` of connector `kind` (at most 1000 characters). */
export function describeDeliveryError(name: string, kind: string, err: unknown): string {
  const text = describeError(err);
  const said = isCredentialError(err)
    ? `destination ${name} (${kind}): ${text}; check the credentials of destinations.${name}`
    : text;
  return said.slice(0, 1000);
}
