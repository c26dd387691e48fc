import { SYSTEM_ACTOR } from "../../crypto/sign/event.js";
import { EVENT_TYPE, WorkflowEvent } from "../../record/event.js";
import type { GateResult } from "./gate.js";

/*
 * The gate-decision event for one gate run (issue 21 item 2: every gate decision for a
 * promotion is a ledger entry). This only builds the event's content; signing it with the
 * sealing key and appending it is the event append path's, wired where `promote` runs.
 */

export interface GateDecisionInput {
  model: string;
  version: string;
  /** The deployment target (--target), else the alias being promoted to. */
  target: string;
  result: GateResult;
  /** When the gate decided, by sealgate's clock (the ledger entry will carry the trusted time). */
  decidedAt: Date;
}

export type GateDecisionEvent = Extract<WorkflowEvent, { kind: "gate-decision" }>;

/** The event content, validated against the event schema. */
export function gateDecisionEvent(i: GateDecisionInput): GateDecisionEvent {
  return WorkflowEvent.parse({
    type: EVENT_TYPE,
    kind: "gate-decision",
    model: i.model,
    version: i.version,
    // A denial before any record was read has no cycle of its own: it is judged as a first review.
    cycle: i.result.cycle ?? 1,
    actor: SYSTEM_ACTOR,
    claimedTime: i.decidedAt.toISOString(),
    target: i.target,
    allowed: i.result.allowed,
    reasons: i.result.reasons,
    // Only a record digest the gate actually read and judged (a tag pointing nowhere is not one).
    record: i.result.cycle !== undefined && i.result.record ? i.result.record : null,
  }) as GateDecisionEvent;
}
