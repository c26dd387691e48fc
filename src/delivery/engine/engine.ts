import PQueue from "p-queue";
import type { Logger } from "pino";
import { describeError } from "../../core/errors.js";
import { SealIndex } from "../../evidence/store/seal-index.js";
import type { CompiledMapping } from "../mapping/compile.js";
import type { AttachmentName } from "../mapping/schema.js";
import { OutboxWriter } from "../outbox/outbox.js";
import type { DeliveryState, RecordState } from "../outbox/state.js";
import type { Signer } from "../../crypto/sign/signer.js";
import type { EvidenceStore } from "../../evidence/store/evidence-store.js";
import type { LedgerReader } from "../../evidence/ledger/ledger.js";
import type { Destination } from "../destination/destination.js";
import { type Call, deliverOne } from "./deliver-one.js";
import { BUILTIN_FILES, type FileKind, FrozenFiles } from "./files.js";
import { readDeliveryView } from "../../evidence/ledger/delivery-view.js";
import { describeDeliveryError } from "./describe.js";
import { loadWork } from "./work.js";

/*
 * One delivery pass: for every configured destination, every sealed record in the ledger that
 * is not yet delivered (or dead, or failed and not yet due) is delivered through that
 * destination's queues. The daemon calls this on a schedule, `sealgate sync` once.
 */

export interface DeliveryTarget {
  name: string;
  destination: Destination;
  mapping: CompiledMapping;
  /** Deliveries in parallel, and remote calls per minute (the vendor's limit). */
  queue: { concurrency: number; perMinute: number };
  /** Failed attempts before a delivery is dead (until `sealgate outbox retry`). */
  maxAttempts: number;
}

export interface PushOptions {
  /** The store's directory: the outbox, the seal index and the frozen delivery files live there. */
  storeRoot: string;
  /** The store's objects and ledger, opened by the caller (app/store.ts picks the backend). */
  store: EvidenceStore;
  ledger: LedgerReader;
  targets: DeliveryTarget[];
  /** The sealing key: signs evidence.json. */
  signer: Signer;
  logger: Logger;
  files?: Partial<Record<AttachmentName, FileKind>>;
  now?: () => Date;
  /** Retry failed deliveries now rather than at their backoff time. */
  ignoreBackoff?: boolean;
  /** Backoff between passes after a failed attempt: base * 2^(attempts-1), capped, jittered. */
  backoff?: { baseMs: number; maxMs: number };
  lockWaitMs?: number;
  onOutcome?: (destination: string, outcome: "delivered" | "failed" | "dead") => void;
}

export interface DestinationResult {
  /** Every sealed record's state for this destination after the pass. */
  states: Record<DeliveryState, number>;
  /** What this pass did. */
  delivered: number;
  failed: number;
  /** Records waiting for a signed checkpoint to cover them. */
  waiting: number;
  /** Set when the destination could not be prepared (nothing was attempted). */
  error?: string;
}

export async function pushOutbox(opts: PushOptions): Promise<Record<string, DestinationResult>> {
  const now = opts.now ?? (() => new Date());
  const { store, ledger } = opts;
  const [view, index, frozen] = await Promise.all([
    readDeliveryView(ledger),
    SealIndex.open(opts.storeRoot),
    FrozenFiles.open(opts.storeRoot, { ...BUILTIN_FILES, ...opts.files }),
  ]);
  // index/sealed.jsonl is a cache: lines lost from it come back from the seal objects.
  await index.restore(view.entries, store);
  const ctx = { store, ledger, view, index, frozen, signer: opts.signer };
  // One destination failing as a whole (locked outbox, disk error) never stops the others.
  const results = await Promise.all(
    opts.targets.map(async (t) => {
      const result: DestinationResult = { states: emptyCounts(), delivered: 0, failed: 0, waiting: 0 };
      try {
        await pushOne(t, result);
      } catch (err) {
        result.error = describeError(err).slice(0, 1000);
        opts.logger.error({ destination: t.name, err: result.error }, "delivery pass failed");
      }
      return [t.name, result] as const;
    }),
  );
  return Object.fromEntries(results);

  async function pushOne(t: DeliveryTarget, result: DestinationResult): Promise<void> {
    const log = opts.logger.child({ destination: t.name, kind: t.destination.kind });
    const outbox = await OutboxWriter.open(opts.storeRoot, t.name, { waitMs: opts.lockWaitMs ?? 0 });
    try {
      const due = view.entries.filter((e) => isDue(outbox.get(e.record), now(), opts.ignoreBackoff));
      if (due.length === 0) return;
      try {
        await t.destination.prepare();
      } catch (err) {
        result.error = describeDeliveryError(t.name, t.destination.kind, err);
        log.error({ err: result.error }, "destination not ready; nothing delivered");
        return;
      }
      const deliveries = new PQueue({ concurrency: t.queue.concurrency });
      const calls = new PQueue({
        concurrency: t.queue.concurrency,
        intervalCap: t.queue.perMinute,
        interval: 60_000,
      });
      const call = <T>(fn: () => Promise<T>) => calls.add(fn) as Promise<T>;
      await Promise.all(
        due.map((entry) => deliveries.add(() => attempt(t, outbox, entry, call, log, result))),
      );
    } finally {
      for (const e of view.entries) result.states[outbox.get(e.record)?.state ?? "pending"]++;
      await outbox.close();
    }
  }

  /** One attempt at one delivery; a failure is recorded (failed or dead), never thrown. */
  async function attempt(
    t: DeliveryTarget,
    outbox: OutboxWriter,
    entry: { seq: number; record: string },
    call: Call,
    log: Logger,
    result: DestinationResult,
  ): Promise<void> {
    const n = (outbox.get(entry.record)?.attempts ?? 0) + 1;
    try {
      const work = await loadWork(ctx, entry, t.mapping);
      if (!work) return void result.waiting++;
      await outbox.record({ to: "in_flight", record: entry.record, at: now().toISOString(), attempt: n });
      const ref = await deliverOne(t.destination, t.mapping, outbox, work, call, now);
      result.delivered++;
      opts.onOutcome?.(t.name, "delivered");
      log.info({ record: entry.record, remote: ref.id }, "delivered");
    } catch (err) {
      const error = describeDeliveryError(t.name, t.destination.kind, err);
      const dead = n >= t.maxAttempts;
      const at = now();
      const base = { record: entry.record, at: at.toISOString(), attempts: n, error };
      const retryAt = new Date(at.getTime() + backoffMs(n, opts.backoff)).toISOString();
      await outbox.record(dead ? { to: "dead", ...base } : { to: "failed", ...base, retryAt });
      result.failed++;
      opts.onOutcome?.(t.name, dead ? "dead" : "failed");
      log.warn({ record: entry.record, attempt: n, err: error }, dead ? "delivery dead" : "delivery failed");
    }
  }
}

function isDue(s: RecordState | undefined, now: Date, ignoreBackoff = false): boolean {
  if (!s) return true;
  if (s.state === "delivered" || s.state === "dead") return false;
  if (s.state === "failed" && !ignoreBackoff && s.retryAt) return Date.parse(s.retryAt) <= now.getTime();
  return true;
}

function backoffMs(attempt: number, b = { baseMs: 30_000, maxMs: 3_600_000 }): number {
  const full = Math.min(b.maxMs, b.baseMs * 2 ** (attempt - 1));
  return Math.round(full / 2 + (Math.random() * full) / 2);
}

export const emptyCounts = (): Record<DeliveryState, number> => ({
  pending: 0,
  in_flight: 0,
  delivered: 0,
  failed: 0,
  dead: 0,
});
