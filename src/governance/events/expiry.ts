import type { Digest } from "../../core/digest.js";
import type { Trust } from "../../crypto/pki/trust.js";
import { fingerprint } from "../../crypto/pki/x509.js";
import { SYSTEM_ACTOR, signEvent } from "../../crypto/sign/event.js";
import type { Signer } from "../../crypto/sign/signer.js";
import type { Ledger } from "../../evidence/ledger/ledger.js";
import type { EvidenceStore } from "../../evidence/store/evidence-store.js";
import { EVENT_TYPE } from "../../record/event.js";
import type { PromotionRecord } from "../../record/schema.js";
import { appendEvent } from "./append.js";
import { eventsOf } from "./read.js";

/*
 * The expiry event (FORMAT.md 8.2): the first time the sealer finds time run out on a sealed
 * approval (an `expires:` date or a `re-review after` period), it appends one `expiry` event
 * naming the record, signed by sealgate, so the ledger says when the approval was seen to lapse.
 * Once per record: the ledger is searched for an earlier one the first time a process sees the
 * record expired, and the answer is remembered, so a long-running daemon does not rescan it.
 */

const known = new WeakMap<Ledger, Set<string>>();

export interface ExpiryDeps {
  store: EvidenceStore;
  ledger: Ledger;
  trust: Trust;
  signer: Signer;
}

/** Append the record's expiry event unless the ledger holds one; its digest when appended now. */
export async function recordExpiry(
  d: ExpiryDeps,
  record: PromotionRecord,
  digest: Digest,
  reasons: string[],
  now: Date,
): Promise<Digest | undefined> {
  const seen = known.get(d.ledger) ?? new Set<string>();
  known.set(d.ledger, seen);
  if (seen.has(digest)) return undefined;
  const { model } = record;
  const { events } = await eventsOf(d.ledger, d.store, { model: model.name, version: model.version });
  if (events.some((e) => e.event.kind === "expiry" && e.event.record === digest)) {
    seen.add(digest);
    return undefined;
  }
  const signed = await signEvent(
    {
      type: EVENT_TYPE,
      kind: "expiry",
      model: model.name,
      version: model.version,
      cycle: record.cycle.number,
      actor: SYSTEM_ACTOR,
      claimedTime: now.toISOString(),
      record: digest,
      reason: reasons.join("; "),
    },
    d.signer,
  );
  const appended = await appendEvent(
    {
      store: d.store,
      ledger: d.ledger,
      trust: d.trust,
      sealing: [await fingerprint(d.signer.chain[0]!)],
      // Signed a moment ago by this process: its clock is the ledger's.
      maxClockSkew: 60,
      now: () => now,
    },
    signed.jws,
  );
  seen.add(digest);
  return appended.digest;
}
