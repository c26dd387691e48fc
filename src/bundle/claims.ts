import { SealgateError } from "../core/errors.js";
import {
  describeFinding,
  type Finding,
  type FindingCode,
  finding,
  type Step,
  type Where,
} from "../evidence/verify/findings.js";
import { memberNames } from "./facts.js";

/*
 * A bundle report is a list of claims, each ✓ or ✗ with the findings that failed it: the
 * Verifier's, distributed by the part they concern, and the bundle's own about its layout. Every
 * claim is checked even after others fail: an auditor needs every problem, not the first.
 */

export interface Claim {
  /** Stable id, e.g. `manifest`, `cycle-2.cms`, `checkpoint`. */
  id: string;
  title: string;
  ok: boolean;
  findings: Finding[];
}

export const claim = (id: string, title: string, findings: readonly Finding[]): Claim => ({
  id,
  title,
  ok: findings.length === 0,
  findings: [...findings],
});

/**
 * What reading a member threw, as a finding about it: a member that is not there is
 * OBJECT_MISSING, one the bundle's limits refuse keeps BUNDLE_UNSAFE, anything else is `code`.
 */
export function readFinding(
  files: ReadonlyMap<string, Uint8Array>,
  path: string,
  err: unknown,
  code: FindingCode,
  where: Where,
  step: Step = "container",
): Finding {
  const refused = err instanceof SealgateError && err.code === "BUNDLE_UNSAFE";
  const missing = !memberNames(files).includes(path);
  const message = err instanceof Error ? err.message : String(err);
  return finding(missing ? "OBJECT_MISSING" : refused ? "BUNDLE_UNSAFE" : code, step, message, where);
}

export function describeClaims(claims: readonly Claim[]): string {
  return claims
    .map(
      (c) =>
        `  ${c.ok ? "✓" : "✗"} ${c.title}\n${c.findings.map((f) => `      ${describeFinding(f)}\n`).join("")}`,
    )
    .join("");
}
