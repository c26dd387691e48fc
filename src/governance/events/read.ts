import type { Digest } from "../../core/digest.js";
import type { LedgerReader } from "../../evidence/ledger/ledger.js";
import type { EvidenceStore } from "../../evidence/store/evidence-store.js";
import { WorkflowEvent } from "../../record/event.js";

/*
 * The events of one model version, in ledger order, each with its entry's seq and append time:
 * what the sealer judges a cycle by. Read, not verified: the payload is parsed to learn which
 * version an event is about, and the caller verifies what it relies on (the sealer verifies each
 * event at its entry's append time). This scans every entry and reads every event object; a
 * per-version index would make it cheaper, and is not needed at the ledger sizes seen so far.
 */

export interface LedgerEvent {
  seq: number;
  /** The entry's append time (sealgate's clock). */
  time: string;
  digest: Digest;
  jws: string;
  /** As the payload claims it, before the signature is checked. */
  event: WorkflowEvent;
}

export interface EventsOf {
  events: LedgerEvent[];
  /** Event entries whose object is missing or not a readable event: each with why. */
  unreadable: { seq: number; digest: Digest; reason: string }[];
}

/** An event JWS's payload, parsed (unverified); a reason string when it is not one. */
export function peekEvent(jws: string): WorkflowEvent | string {
  const payload = jws.split(".")[1];
  if (payload === undefined) return "not a compact JWS";
  let raw: unknown;
  try {
    raw = JSON.parse(Buffer.from(payload, "base64url").toString("utf8"));
  } catch {
    return "payload is not JSON";
  }
  const r = WorkflowEvent.safeParse(raw);
  return r.success ? r.data : `not a ${"sealgate.event/1"} payload`;
}

/** The ledger's events about `model` `version` (and `cycle`, when given), in ledger order. */
export async function eventsOf(
  ledger: LedgerReader,
  store: EvidenceStore,
  which: { model: string; version: string; cycle?: number },
): Promise<EventsOf> {
  const out: EventsOf = { events: [], unreadable: [] };
  for await (const batch of ledger.read())
    for (const entry of batch) {
      if (entry.kind !== "event" || entry.time === undefined) continue;
      let jws: string;
      try {
        jws = Buffer.from(await store.get(entry.object)).toString("utf8");
      } catch (err) {
        out.unreadable.push({ seq: entry.seq, digest: entry.object, reason: (err as Error).message });
        continue;
      }
      const event = peekEvent(jws);
      if (typeof event === "string") {
        out.unreadable.push({ seq: entry.seq, digest: entry.object, reason: event });
        continue;
      }
      if (event.model !== which.model || event.version !== which.version) continue;
      if (which.cycle !== undefined && event.cycle !== which.cycle) continue;
      out.events.push({ seq: entry.seq, time: entry.time, digest: entry.object, jws, event });
    }
  return out;
}
