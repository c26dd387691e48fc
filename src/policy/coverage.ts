import type { Policy } from "./schema.js";

/*
 * A tier's chain completes only if every role in it has someone allowed to sign. A role with
 * no registered approver valid today leaves every version routed to that tier pending for good,
 * which an admin wants to hear at `config check`, not from a stuck promotion.
 */

export interface UncoveredRoles {
  tier: string;
  roles: string[];
}

/** Per tier, the roles of its chain that no approver may act in at `at`; tiers fully covered are left out. */
export function uncoveredRoles(policy: Policy, at: Date): UncoveredRoles[] {
  const valid = policy.approvers.filter(
    (a) => new Date(a.effectiveFrom) <= at && (!a.effectiveUntil || at < new Date(a.effectiveUntil)),
  );
  const covered = new Set(valid.flatMap((a) => a.roles));
  return Object.entries(policy.tiers)
    .map(([tier, t]) => ({ tier, roles: [...new Set(t.chain)].filter((r) => !covered.has(r)) }))
    .filter((u) => u.roles.length > 0);
}
