import { z } from "zod";
import { Digest } from "../../record/schema.js";
import { scrub } from "../../core/util/secret-values.js";

/*
 * Delivery state of one (record, destination), as a fold over transitions. "pending" is never
 * written: every sealed record in the ledger without a state here is pending, so work is
 * derived from the ledger and nothing has to be enqueued (or can be lost).
 */

export const DELIVERY_STATES = ["pending", "in_flight", "delivered", "failed", "dead"] as const;
export type DeliveryState = (typeof DELIVERY_STATES)[number];

const RemoteRef = z.strictObject({ id: z.string().min(1), url: z.string().optional() });
/** An error as persisted (and as read back): scrubbed of secret values, since a remote may echo them. */
const ErrorText = z.string().transform(scrub);
const DeliveredFile = z.strictObject({ name: z.string(), sha256: z.string(), size: z.int().nonnegative() });

export const Transition = z.discriminatedUnion("to", [
  /** An attempt started (attempt = 1, 2, ...). */
  z.strictObject({
    to: z.literal("in_flight"),
    record: Digest,
    at: z.iso.datetime(),
    attempt: z.int().min(1),
  }),
  /** The remote record is known (created or found by correlation): never create it again. */
  z.strictObject({ to: z.literal("remote"), record: Digest, at: z.iso.datetime(), remote: RemoteRef }),
  z.strictObject({
    to: z.literal("delivered"),
    record: Digest,
    at: z.iso.datetime(),
    remote: RemoteRef,
    files: z.array(DeliveredFile),
  }),
  z.strictObject({
    to: z.literal("failed"),
    record: Digest,
    at: z.iso.datetime(),
    attempts: z.int().min(1),
    error: ErrorText,
    retryAt: z.iso.datetime(),
  }),
  z.strictObject({
    to: z.literal("dead"),
    record: Digest,
    at: z.iso.datetime(),
    attempts: z.int().min(1),
    error: ErrorText,
  }),
  /** `sealgate outbox retry`: back to pending with a fresh attempt count. */
  z.strictObject({ to: z.literal("retry"), record: Digest, at: z.iso.datetime() }),
]);
export type Transition = z.infer<typeof Transition>;

export interface RecordState {
  record: string;
  state: DeliveryState;
  /** Attempts that ended in failure since the last retry. */
  attempts: number;
  remote?: { id: string; url?: string };
  files?: { name: string; sha256: string; size: number }[];
  lastError?: string;
  retryAt?: string;
  /** When the state last changed. */
  since: string;
}

/** Apply one transition to the state it follows. */
export function apply(prev: RecordState | undefined, t: Transition): RecordState {
  const base: RecordState = prev ?? { record: t.record, state: "pending", attempts: 0, since: t.at };
  switch (t.to) {
    case "in_flight":
      return { ...base, state: "in_flight", since: t.at };
    case "remote":
      return { ...base, remote: t.remote, since: t.at };
    case "delivered":
      return { ...base, state: "delivered", remote: t.remote, files: t.files, since: t.at };
    case "failed":
      return {
        ...base,
        state: "failed",
        attempts: t.attempts,
        lastError: t.error,
        retryAt: t.retryAt,
        since: t.at,
      };
    case "dead":
      return { ...base, state: "dead", attempts: t.attempts, lastError: t.error, since: t.at };
    case "retry": {
      // The remote ref stays: a retried delivery must still not create a second record.
      const { lastError: _e, retryAt: _r, ...rest } = base;
      return { ...rest, state: "pending", attempts: 0, since: t.at };
    }
  }
}

export function fold(transitions: readonly Transition[]): Map<string, RecordState> {
  const states = new Map<string, RecordState>();
  for (const t of transitions) states.set(t.record, apply(states.get(t.record), t));
  return states;
}
