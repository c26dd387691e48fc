import { OutboxWriter } from "./outbox.js";

/**
 * `sealgate outbox retry`: failed and dead deliveries of a destination (or one record) go back
 * to pending with a fresh attempt count. Returns how many. Waits for a running push to finish.
 */
export async function retryDeliveries(
  storeRoot: string,
  destination: string,
  opts: { record?: string; waitMs?: number; now?: Date },
): Promise<number> {
  const outbox = await OutboxWriter.open(storeRoot, destination, { waitMs: opts.waitMs ?? 30_000 });
  try {
    const at = (opts.now ?? new Date()).toISOString();
    const targets = [...outbox.states.values()].filter(
      (s) => (s.state === "failed" || s.state === "dead") && (!opts.record || s.record === opts.record),
    );
    for (const s of targets) await outbox.record({ to: "retry", record: s.record, at });
    return targets.length;
  } finally {
    await outbox.close();
  }
}
