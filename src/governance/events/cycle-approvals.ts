import type { Digest } from "../../core/digest.js";
import type { Trust } from "../../crypto/pki/trust.js";
import { verifyApproval } from "../../crypto/sign/approval.js";
import { verifyEvent } from "../../crypto/sign/event.js";
import type { LedgerReader } from "../../evidence/ledger/ledger.js";
import type { EvidenceStore } from "../../evidence/store/evidence-store.js";
import type { VerifiedAssertion } from "../../policy/chain.js";
import { actorMismatch } from "../../policy/person.js";
import type { Policy } from "../../policy/schema.js";
import { assertionMismatch, isDecision } from "./append.js";
import { eventsOf } from "./read.js";

/*
 * A review cycle's decisions as the ledger holds them, for the sealer. Order is ledger order and
 * time is the entry's append time: each assertion is handed to the chain with its `signedAt`
 * replaced by that time (entry times never decrease, and the chain's sort is stable, so the
 * chain walks them in ledger order and judges authority then), and `asSigned` gives back the
 * assertion as its signer wrote it, for the record. Each event is verified again here (its
 * certificate at the append time, its actor the certificate's person, its assertion the same
 * decision by the same certificate); one that fails is left out with the reason.
 */

export interface CycleApprovals {
  /** What the chain judges: the verified decisions, ledger order, signedAt = append time. */
  judged: VerifiedAssertion[];
  /** The decision as signed, by its JWS. */
  asSigned: Map<string, VerifiedAssertion>;
  /** Signed comments and clarification requests of the cycle: the annotation objects, ledger order. */
  annotations: Digest[];
  refused: string[];
  /** Every event object of the cycle, in ledger order (the seal object's `events`). */
  events: Digest[];
}

export interface CycleApprovalDeps {
  ledger: LedgerReader;
  store: EvidenceStore;
  trust: Trust;
  policy: Policy;
  /** SHA-256 fingerprints of the sealing certificates. */
  sealing: readonly string[];
}

/**
 * The cycle's decisions from the ledger; null when the ledger holds no decision event of this
 * cycle (its approvals, if any, are tag-carried: a review-opened or comment event alone does not
 * make a cycle ledger-judged, or approvals made while the ledger could not be reached would
 * never count).
 */
export async function cycleApprovals(
  d: CycleApprovalDeps,
  which: { model: string; version: string; cycle: number },
): Promise<CycleApprovals | null> {
  const { events } = await eventsOf(d.ledger, d.store, which);
  if (!events.some((e) => isDecision(e.event))) return null;
  const out: CycleApprovals = {
    judged: [],
    asSigned: new Map(),
    annotations: [],
    refused: [],
    events: events.map((e) => e.digest),
  };
  for (const e of events) {
    const refuse = (why: string) => out.refused.push(`event #${e.seq} (${e.event.kind}): refused: ${why}`);
    try {
      const at = new Date(e.time);
      const v = await verifyEvent(e.jws, d.trust, { at, sealing: d.sealing });
      if (v.event.actor !== "sealgate") {
        const wrong = actorMismatch(d.policy, v.signer, v.event.actor);
        if (wrong) {
          refuse(wrong);
          continue;
        }
      }
      if (v.event.kind === "comment" || v.event.kind === "clarification-request") {
        out.annotations.push(v.event.annotation as Digest);
        continue;
      }
      if (!isDecision(v.event)) continue;
      const approval = await verifyApproval(
        Buffer.from(await d.store.get(v.event.assertion as Digest)).toString("utf8"),
        d.trust,
      );
      const wrong = assertionMismatch(v.event, approval, v.signer.fingerprint);
      if (wrong) {
        refuse(wrong);
        continue;
      }
      out.asSigned.set(approval.jws, approval);
      out.judged.push({ ...approval, assertion: { ...approval.assertion, signedAt: e.time } });
    } catch (err) {
      refuse(`${(err as { code?: string }).code ?? "INVALID"}: ${(err as Error).message}`);
    }
  }
  return out;
}
