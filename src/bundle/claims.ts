import { SealgateError } from "../core/errors.js";

/*
 * A bundle report is a list of claims, each ✓ or ✗ with the reasons it failed. Every claim is
 * checked even after others fail: an auditor needs every problem, not the first.
 */

export interface Claim {
  /** Stable id, e.g. `manifest`, `cycle-2.cms`, `checkpoint`. */
  id: string;
  title: string;
  ok: boolean;
  reasons: string[];
}

/** A claim fails when `fn` calls `fail` or throws; a thrown SealgateError keeps its code. */
export async function checkClaim(
  claims: Claim[],
  id: string,
  title: string,
  fn: (fail: (reason: string) => void) => unknown,
): Promise<boolean> {
  const reasons: string[] = [];
  try {
    await fn((r) => reasons.push(r));
  } catch (err) {
    reasons.push(
      err instanceof SealgateError ? `${err.code}: ${err.message}` : String((err as Error).message ?? err),
    );
  }
  claims.push({ id, title, ok: reasons.length === 0, reasons });
  return reasons.length === 0;
}

export function describeClaims(claims: readonly Claim[]): string {
  return claims
    .map((c) => `  ${c.ok ? "✓" : "✗"} ${c.title}\n${c.reasons.map((r) => `      ${r}\n`).join("")}`)
    .join("");
}
