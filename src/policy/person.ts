import type { ApproverIdentity } from "../crypto/sign/approval.js";
import type { Approver, Policy } from "./schema.js";

/*
 * Who a certificate belongs to. Separation of duties is about people, not keys: a renewed
 * certificate (same email, new key) is the same person, so the registry, not the certificate's
 * fingerprint, names the person. The matching rule here is the one FORMAT.md states.
 */

/** ASCII-lowercased: sealgate treats addresses that differ only in case as one person. */
export const normEmail = (email: string): string => email.trim().replace(/[A-Z]/g, (c) => c.toLowerCase());

/** Every certificate selector the entry gives must match (at least one is required by the schema). */
export function entryMatches(entry: Approver, identity: ApproverIdentity): boolean {
  if (entry.fingerprint && entry.fingerprint !== identity.fingerprint.toLowerCase()) return false;
  if (entry.subject !== undefined && entry.subject !== identity.subject) return false;
  if (entry.issuer !== undefined && entry.issuer !== identity.issuer) return false;
  if (entry.email !== undefined && normEmail(entry.email) !== normEmail(identity.email)) return false;
  return true;
}

/** The entry's person id: its `id`, else its email, else the email of the certificate it matched. */
export function personIdOf(entry: Approver, identity: ApproverIdentity): string {
  return entry.id ?? normEmail(entry.email ?? identity.email);
}

export type PersonMatch = { ok: true; person: string; entries: Approver[] } | { ok: false; reason: string };

/** The one person the registry says holds this certificate, or why there is not exactly one. */
export function personOf(policy: Policy, identity: ApproverIdentity): PersonMatch {
  const entries = policy.approvers.filter((e) => entryMatches(e, identity));
  const people = [...new Set(entries.map((e) => personIdOf(e, identity)))];
  if (people.length === 0)
    return {
      ok: false,
      reason: `certificate "${identity.subject}" <${identity.email}> matches no approver registry entry`,
    };
  if (people.length > 1)
    return {
      ok: false,
      reason: `certificate "${identity.subject}" <${identity.email}> matches registry entries of ${people.length} people (${people.join(", ")}); the registry must name one person per certificate`,
    };
  return { ok: true, person: people[0]!, entries };
}

/**
 * Whether `person` is one of `conflicted` (owner or registrant emails, or person ids): by the
 * certificate's email, the person id, or any email the registry lists for that person.
 */
export function isConflicted(
  policy: Policy,
  identity: ApproverIdentity,
  person: string,
  conflicted: readonly string[],
): boolean {
  const names = new Set([normEmail(identity.email), person]);
  for (const e of policy.approvers)
    if (e.email && (e.id === person || normEmail(e.email) === person)) names.add(normEmail(e.email));
  return conflicted.some((c) => names.has(c) || names.has(normEmail(c)));
}

/**
 * Why a person's signed event may not be attributed to its `actor`, or null when it may: the
 * signer's certificate must map to exactly that person. (System events, actor "sealgate", are
 * checked against the sealing certificate instead, not here.)
 */
export function actorMismatch(policy: Policy, signer: ApproverIdentity, actor: string): string | null {
  const who = personOf(policy, signer);
  if (!who.ok) return who.reason;
  return who.person === actor ? null : `signed by ${who.person}, but names ${actor} as its actor`;
}
