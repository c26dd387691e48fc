import type { Digest } from "../../core/digest.js";
import type { EvidenceStore } from "../store/evidence-store.js";

/*
 * Every object in the store re-hashed: its name must be the SHA-256 of its bytes. A few calls
 * are kept in flight so a backend that hashes off the main thread (FsObjectStore: libuv's pool)
 * keeps every core busy while the main thread walks the ledger.
 */

export interface Rehashed {
  /** Every digest the store lists. */
  listed: Set<string>;
  corrupt: { digest: Digest; actual: string }[];
  unreadable: { digest: Digest; error: unknown }[];
  objects: number;
  bytes: number;
}

/** How many objects are hashed at once: enough to keep the pool's threads busy. */
const IN_FLIGHT = 8;

export async function rehashAll(store: EvidenceStore): Promise<Rehashed> {
  const out: Rehashed = { listed: new Set(), corrupt: [], unreadable: [], objects: 0, bytes: 0 };
  const running = new Set<Promise<void>>();
  for await (const digest of store.list()) {
    out.listed.add(digest);
    const job: Promise<void> = store.hashStored(digest).then(
      ({ actual, size }) => {
        out.objects++;
        out.bytes += size;
        if (actual !== digest) out.corrupt.push({ digest, actual });
      },
      (error: unknown) => {
        out.unreadable.push({ digest, error });
      },
    );
    running.add(job);
    void job.finally(() => running.delete(job));
    if (running.size >= IN_FLIGHT) await Promise.race(running);
  }
  await Promise.all(running);
  return out;
}
