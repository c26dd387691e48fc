import { readDeliveryView } from "../../evidence/ledger/delivery-view.js";
import type { LedgerReader } from "../../evidence/ledger/ledger.js";
import type { EvidenceStore } from "../../evidence/store/evidence-store.js";
import { readOutbox } from "./outbox.js";
import { DELIVERY_STATES, type DeliveryState, type RecordState } from "./state.js";

/*
 * What `outbox list` and `status` show: every sealed record in the ledger for every configured
 * destination, with records that have no state yet shown as pending (that is what they are).
 */

export interface OutboxRow extends RecordState {
  destination: string;
  seq: number;
}

/** `storeRoot` holds the outbox files; the sealed records are the ledger's. */
export async function outboxRows(
  storeRoot: string,
  ledger: LedgerReader,
  destinations: readonly string[],
): Promise<OutboxRow[]> {
  const view = await readDeliveryView(ledger);
  const rows: OutboxRow[] = [];
  for (const destination of destinations) {
    const states = await readOutbox(storeRoot, destination);
    for (const e of view.entries) {
      const s = states.get(e.record);
      rows.push({
        destination,
        seq: e.seq,
        ...(s ?? { record: e.record, state: "pending", attempts: 0, since: "" }),
      });
    }
  }
  return rows;
}

export type DestinationStatus = Record<DeliveryState, number> & {
  /** Seconds since the oldest undelivered (not dead) record was sealed; null when none waits. */
  oldestPendingSeconds: number | null;
};

export async function outboxStatus(
  storeRoot: string,
  parts: { store: EvidenceStore; ledger: LedgerReader },
  destinations: readonly string[],
  now = new Date(),
): Promise<Record<string, DestinationStatus>> {
  const rows = await outboxRows(storeRoot, parts.ledger, destinations);
  const store = parts.store;
  const out: Record<string, DestinationStatus> = {};
  for (const d of destinations) {
    const mine = rows.filter((r) => r.destination === d);
    const counts = Object.fromEntries(
      DELIVERY_STATES.map((s) => [s, mine.filter((r) => r.state === s).length]),
    ) as Record<DeliveryState, number>;
    // Ledger order is sealing order: the first waiting row is the oldest.
    const oldest = mine.find((r) => r.state !== "delivered" && r.state !== "dead");
    let age: number | null = null;
    if (oldest) {
      const record = JSON.parse(Buffer.from(await store.get(oldest.record as never)).toString("utf8")) as {
        sealedAt?: unknown;
      };
      const sealed = typeof record.sealedAt === "string" ? Date.parse(record.sealedAt) : NaN;
      age = Number.isNaN(sealed) ? null : Math.max(0, Math.round((now.getTime() - sealed) / 1000));
    }
    out[d] = { ...counts, oldestPendingSeconds: age };
  }
  return out;
}
