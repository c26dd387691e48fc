import type { Digest } from "../../core/digest.js";
import type { EvidenceStore } from "../store/evidence-store.js";

/*
 * Every object in the store re-hashed: its name must be the SHA-256 of its bytes. A store that
 * can list and hash in one pass (hashEvery: FsObjectStore, a directory per worker message) does
 * it all off the main thread. Otherwise digests go to the store in batches, a few batches in
 * flight, so a backend that hashes off the main thread keeps every core busy while the main
 * thread walks the ledger.
 */

export interface Rehashed {
  /** Every digest the store lists. */
  listed: Set<string>;
  corrupt: { digest: Digest; actual: string }[];
  unreadable: { digest: Digest; error: unknown }[];
  objects: number;
  bytes: number;
}

/** Objects per batch, and batches in flight: enough to keep every worker busy. */
const BATCH = 256;
const IN_FLIGHT = 4;

export async function rehashAll(store: EvidenceStore): Promise<Rehashed> {
  const out: Rehashed = { listed: new Set(), corrupt: [], unreadable: [], objects: 0, bytes: 0 };
  if (store.hashEvery) {
    // Listed and hashed where the bytes are: only the names and the mismatches come back.
    for await (const b of store.hashEvery()) {
      for (const digest of b.listed) out.listed.add(digest);
      out.corrupt.push(...b.corrupt);
      out.unreadable.push(...b.unreadable);
      out.objects += b.objects;
      out.bytes += b.bytes;
    }
    return out;
  }
  const running = new Set<Promise<void>>();
  const send = (batch: Digest[]) => {
    const job: Promise<void> = store.hashStored(batch).then((results) =>
      results.forEach((r, i) => {
        const digest = batch[i]!;
        if ("error" in r) return void out.unreadable.push({ digest, error: r.error });
        out.objects++;
        out.bytes += r.size;
        if (r.actual !== digest) out.corrupt.push({ digest, actual: r.actual });
      }),
    );
    running.add(job);
    void job.finally(() => running.delete(job)).catch(() => {});
  };
  let batch: Digest[] = [];
  for await (const digest of store.list()) {
    out.listed.add(digest);
    batch.push(digest);
    if (batch.length < BATCH) continue;
    send(batch);
    batch = [];
    if (running.size >= IN_FLIGHT) await Promise.race(running);
  }
  if (batch.length) send(batch);
  await Promise.all(running);
  return out;
}
