import { SealgateError } from "../../core/errors.js";
import type { Digest } from "../../core/digest.js";
import type { Trust } from "../../crypto/pki/trust.js";
import { type VerifiedApproval, verifyApproval } from "../../crypto/sign/approval.js";
import { type VerifiedEvent, verifyEvent } from "../../crypto/sign/event.js";
import type { Ledger } from "../../evidence/ledger/ledger.js";
import type { EvidenceStore } from "../../evidence/store/evidence-store.js";
import { eventReferences, type WorkflowEvent } from "../../record/event.js";

/*
 * Appending a signed workflow event as it happens: the one path the CLI (ledger lock free) and
 * the daemon's POST /events (lock held) share. Everything is checked before the append, so a
 * refused event leaves the ledger as it was: the signature and chain (at sealgate's clock, not the
 * signer's), every object the event names is in the store, a decision event's assertion is the
 * same person's statement about the same thing, and the signer's clock is within
 * events.maxClockSkew of sealgate's. The entry's time is the ledger's max(now, previous time);
 * the check uses `now`, which is that time unless an earlier entry was stamped by a clock ahead
 * of this one.
 */

export interface AppendEventDeps {
  store: EvidenceStore;
  ledger: Ledger;
  trust: Trust;
  /** SHA-256 fingerprints of the sealing certificates (system events must be signed by one). */
  sealing: readonly string[];
  /** events.maxClockSkew, in seconds. */
  maxClockSkew: number;
  now?: () => Date;
}

export interface AppendedEvent {
  seq: number;
  /** The entry's append time (sealgate's clock). */
  time: string;
  digest: Digest;
  event: WorkflowEvent;
  /**
   * Set when an entry already named this very event (a retried hand-off): nothing appended, and
   * `seq` is -1 and `time` "" (the ledger answers whether it holds an object, not where).
   */
  already?: boolean;
}

const DECISION = { approval: "approve", rejection: "reject", "request-changes": "request-changes" } as const;
type DecisionKind = keyof typeof DECISION;
export type DecisionEvent = Extract<WorkflowEvent, { kind: DecisionKind }>;
export const isDecision = (e: WorkflowEvent): e is DecisionEvent => e.kind in DECISION;

/** Why a decision event's assertion is not the same decision by the same certificate, or null. */
export function assertionMismatch(
  e: DecisionEvent,
  approval: VerifiedApproval,
  signer: string,
): string | null {
  const a = approval.assertion;
  if (a.model !== e.model || a.version !== e.version) return `the assertion is for ${a.model} v${a.version}`;
  if (a.packageDigest !== e.package)
    return `the assertion signs package ${a.packageDigest}, the event names ${e.package}`;
  if (a.role !== e.role) return `the assertion's role is ${a.role}, the event's ${e.role}`;
  if (a.decision !== DECISION[e.kind]) return `the assertion decides ${a.decision}, the event is a ${e.kind}`;
  if (approval.identity.fingerprint !== signer)
    return "the assertion and the event are signed by different certificates";
  return null;
}

/** Refuse a claimed time further than `maxSeconds` from the append time, naming both and the limit. */
export function checkSkew(what: string, claimed: string, at: Date, maxSeconds: number): void {
  const off = (Date.parse(claimed) - at.getTime()) / 1000;
  if (Math.abs(off) <= maxSeconds) return;
  throw new SealgateError(
    "EVENT_CLOCK_SKEW",
    `${what} ${claimed} is ${Math.abs(off).toFixed(0)} s ${off > 0 ? "ahead of" : "behind"} sealgate's append time ${at.toISOString()}; events.maxClockSkew allows ${maxSeconds} s: refused, nothing appended`,
  );
}

const invalid = (msg: string) => new SealgateError("EVENT_INVALID", `event: ${msg}; nothing appended`);

/** The approval assertion a decision event wraps: stored, verified, and the same decision by the same certificate. */
async function checkAssertion(
  d: AppendEventDeps,
  v: VerifiedEvent & { event: DecisionEvent },
  at: Date,
): Promise<VerifiedApproval> {
  const e = v.event;
  const approval = await verifyApproval(
    Buffer.from(await d.store.get(e.assertion as Digest)).toString("utf8"),
    d.trust,
  );
  const mismatch = assertionMismatch(e, approval, v.signer.fingerprint);
  if (mismatch) throw invalid(mismatch);
  checkSkew("the approval's signedAt", approval.assertion.signedAt, at, d.maxClockSkew);
  return approval;
}

/** Verify a signed event and append it; refused (nothing appended) if any check fails. */
export async function appendEvent(d: AppendEventDeps, jws: string): Promise<AppendedEvent> {
  const now = (d.now ?? (() => new Date()))();
  // Certificate validity at sealgate's clock: a backdated claimedTime does not get around expiry.
  const v = await verifyEvent(jws, d.trust, { at: now, sealing: d.sealing });
  checkSkew("the event's claimedTime", v.event.claimedTime, now, d.maxClockSkew);
  for (const ref of eventReferences(v.event))
    if (!(await d.store.has(ref.digest as Digest)))
      throw invalid(`${ref.member} names ${ref.digest}, which is not in the evidence store`);
  if (isDecision(v.event)) await checkAssertion(d, { ...v, event: v.event }, now);
  const digest = await d.store.put(Buffer.from(jws, "utf8"));
  if (await d.ledger.includes(digest)) return { seq: -1, time: "", digest, event: v.event, already: true };
  const { seq, time } = await d.ledger.append({ kind: "event", object: digest }, { now });
  return { seq, time, digest, event: v.event };
}
