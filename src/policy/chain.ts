import type { ApproverIdentity } from "../crypto/sign/approval.js";
import type { ApprovalAssertion } from "../crypto/sign/approval.js";
import type { Approver, Policy } from "./schema.js";
import { isConflicted, personOf } from "./person.js";

/*
 * Role-sequenced approval: roles sign in the order the tier names; a later role signing early
 * does not count; a rejection ends the cycle; request-changes pauses it. Only verified
 * assertions over the current package count; the rest stay in the history with the reason
 * they were not counted.
 */

export interface VerifiedAssertion {
  assertion: ApprovalAssertion;
  identity: ApproverIdentity;
  jws: string;
}

export type CycleState = "pending_review" | "changes_requested" | "approved" | "rejected";

export interface ChainResult {
  state: CycleState;
  /** Assertions that count, in chain order. */
  counted: VerifiedAssertion[];
  ignored: { approval: VerifiedAssertion; reason: string }[];
  /** The role whose decision is awaited (pending_review only). */
  nextRole: string | null;
}

const inForce = (a: Approver, role: string, at: Date) =>
  a.roles.includes(role) &&
  new Date(a.effectiveFrom) <= at &&
  (!a.effectiveUntil || at < new Date(a.effectiveUntil));

/**
 * The registry entry that authorises `identity` in `role` at time `at`, if any: among the
 * entries of the one person the certificate maps to (person.ts), those matching this very
 * certificate. A certificate matching no entry, or entries of two people, has no authority.
 */
export function authority(
  policy: Policy,
  identity: ApproverIdentity,
  role: string,
  at: Date,
): Approver | undefined {
  const who = personOf(policy, identity);
  return who.ok ? who.entries.find((a) => inForce(a, role, at)) : undefined;
}

export interface ChainContext {
  policy: Policy;
  chain: string[];
  packageDigest: string;
  /** Who may not approve this version, its registrant and named owners: emails or person ids. */
  conflicted: string[];
  /** Time authority is re-checked at (seal time); authority must hold then too. */
  now: Date;
}

export function evaluateChain(approvals: VerifiedAssertion[], ctx: ChainContext): ChainResult {
  const sorted = [...approvals].sort((a, b) => a.assertion.signedAt.localeCompare(b.assertion.signedAt));
  const counted: VerifiedAssertion[] = [];
  const ignored: ChainResult["ignored"] = [];
  const people = new Set<string>();
  let state: CycleState = "pending_review";
  for (const a of sorted) {
    const { assertion: s, identity } = a;
    const skip = (reason: string) => ignored.push({ approval: a, reason });
    if (state !== "pending_review") {
      skip(`signed after the cycle was ${state.replace("_", " ")}`);
      continue;
    }
    if (s.packageDigest !== ctx.packageDigest) {
      skip(`stale: signed package ${s.packageDigest}, the package is now ${ctx.packageDigest}`);
      continue;
    }
    const expected = ctx.chain[counted.length];
    if (s.role !== expected) {
      skip(
        ctx.chain.includes(s.role)
          ? ctx.chain.indexOf(s.role) < counted.length
            ? `role ${s.role} has already decided`
            : `out of order: ${s.role} signed before ${expected} had decided`
          : `role ${s.role} is not in this tier's chain (${ctx.chain.join(" -> ")})`,
      );
      continue;
    }
    const who = personOf(ctx.policy, identity);
    if (!who.ok) {
      skip(`${identity.email} had no authority: ${who.reason}`);
      continue;
    }
    const signedAt = new Date(s.signedAt);
    if (!authority(ctx.policy, identity, s.role, signedAt)) {
      skip(`${identity.email} had no authority as ${s.role} at ${s.signedAt}`);
      continue;
    }
    if (!authority(ctx.policy, identity, s.role, ctx.now)) {
      skip(`${identity.email} no longer has authority as ${s.role}`);
      continue;
    }
    if (isConflicted(ctx.policy, identity, who.person, ctx.conflicted)) {
      skip(`separation of duties: ${identity.email} registered or owns this model`);
      continue;
    }
    // By person, not certificate: a renewed certificate of someone who already signed is still them.
    if (people.has(who.person)) {
      skip(
        `separation of duties: ${identity.email} already filled a role in this record (person ${who.person})`,
      );
      continue;
    }
    people.add(who.person);
    counted.push(a);
    if (s.decision === "reject") state = "rejected";
    else if (s.decision === "request-changes") state = "changes_requested";
    else if (counted.length === ctx.chain.length) state = "approved";
  }
  return {
    state,
    counted,
    ignored,
    nextRole: state === "pending_review" ? (ctx.chain[counted.length] ?? null) : null,
  };
}
