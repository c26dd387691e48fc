import { SealgateError } from "../../core/errors.js";
import { evaluateChain, type VerifiedAssertion } from "../../policy/chain.js";
import type { Policy } from "../../policy/schema.js";
import type { SourceVersion } from "../../source/registry-source.js";
import { conflictedParties, describeWait, type VersionStatus } from "./status.js";

/*
 * `approve` refuses at once what the sealer would only leave out later: it walks the same chain
 * (policy/chain.ts) over the approvals already recorded plus the new one, and if the new one
 * would not count, nothing is written and the approver learns why and which role is next.
 */

/** The role the chain needs next, for the end of every refusal. */
export function nextNeeded(status: Pick<VersionStatus, "result" | "waitingSince">): string {
  return `next: ${describeWait(status)}`;
}

export function refused(
  reason: string,
  status: Pick<VersionStatus, "result" | "waitingSince">,
): SealgateError {
  return new SealgateError("APPROVAL_REFUSED", `refused, nothing recorded: ${reason}; ${nextNeeded(status)}`);
}

/** A package digest the approver reviewed that is no longer the version's package. */
export function checkPackage(status: VersionStatus, reviewed: string | undefined): void {
  if (reviewed !== undefined && reviewed !== status.packageDigest)
    throw refused(
      `stale package: you reviewed ${reviewed}, the package of ${status.model} v${status.version} is now ${status.packageDigest}`,
      status,
    );
}

/** Throws APPROVAL_REFUSED unless `candidate` would count in the chain as things stand now. */
export function checkCandidate(
  status: VersionStatus,
  candidate: VerifiedAssertion,
  policy: Policy,
  mv: Pick<SourceVersion, "createdBy">,
  now: Date,
): void {
  const { state } = status.result;
  if (state !== "pending_review")
    throw refused(`the review cycle of this package is already ${state.replace("_", " ")}`, status);
  const after = evaluateChain([...status.verified, candidate], {
    policy,
    chain: status.pkg.materiality.chain,
    packageDigest: status.packageDigest,
    conflicted: conflictedParties(policy, mv),
    now,
  });
  const mine = after.ignored.find((i) => i.approval === candidate);
  if (mine)
    throw refused(`${candidate.identity.email} as ${candidate.assertion.role}: ${mine.reason}`, status);
}
