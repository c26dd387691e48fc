import { mkdir } from "node:fs/promises";
import { dirname } from "node:path";
import { z } from "zod";
import { appendJsonl, readJsonl } from "../../evidence/store/jsonl.js";
import { writeFileAtomic } from "../../core/util/atomic-file.js";

/*
 * Webhook delivery ids accepted inside the replay window, kept in <store>/webhook/seen.jsonl so
 * that a restart does not forget them and accept a captured delivery a second time. Each id is
 * appended and fsynced before the delivery is acknowledged. Opening drops the ids whose window
 * has passed and rewrites the file atomically, which also sheds a line torn by SIGKILL; the
 * file is compacted the same way while running once it is mostly expired ids.
 */

export const SEEN_FILE = ["webhook", "seen.jsonl"] as const;

const Entry = z.object({ id: z.string().min(1), ts: z.int() });
type Entry = z.infer<typeof Entry>;

export interface SeenOptions {
  now?: () => number;
  /** Below this many lines the file is never rewritten while running (default 1000). */
  compactMinLines?: number;
}

export interface SeenOpenReport {
  kept: number;
  expired: number;
  /** Bytes of a torn last line (a crash mid-append), set aside. */
  tornBytes: number;
}

export class SeenDeliveries {
  private writes: Promise<void> = Promise.resolve();

  private constructor(
    private readonly path: string,
    private readonly toleranceSeconds: number,
    private readonly now: () => number,
    private readonly compactMinLines: number,
    private readonly live: Map<string, number>,
    private lines: number,
  ) {}

  /** Read the file (missing = empty), keep the ids still inside the window, and rewrite it with those. */
  static async open(
    path: string,
    toleranceSeconds: number,
    o: SeenOptions = {},
  ): Promise<{ seen: SeenDeliveries; report: SeenOpenReport }> {
    const now = o.now ?? Date.now;
    const { items, tornBytes } = await readJsonl(path, Entry, { skipInvalid: true });
    const live = new Map<string, number>();
    for (const e of items) if (fresh(e.ts, now, toleranceSeconds)) live.set(e.id, e.ts);
    const seen = new SeenDeliveries(
      path,
      toleranceSeconds,
      now,
      o.compactMinLines ?? 1000,
      live,
      items.length,
    );
    // Rewritten every start: cheap at this size, and it sheds expired ids, bad lines and a torn tail alike.
    await mkdir(dirname(path), { recursive: true });
    await seen.compact();
    return { seen, report: { kept: live.size, expired: items.length - live.size, tornBytes } };
  }

  /** Ids still inside the window, oldest first, for `WebhookReceiver`'s `seen` option. */
  entries(): [string, number][] {
    return [...this.live];
  }

  /** Append one accepted id; resolves once it is on disk. Writes run one at a time. */
  record(deliveryId: string, timestamp: number): Promise<void> {
    const write = this.writes.then(async () => {
      await appendJsonl(this.path, [{ id: deliveryId, ts: timestamp } satisfies Entry]);
      this.live.set(deliveryId, timestamp);
      this.lines++;
      this.forgetExpired();
      // The id is on disk already; a failed rewrite only leaves the file longer until the next one.
      if (this.lines >= this.compactMinLines && this.lines > 2 * this.live.size)
        await this.compact().catch(() => {});
    });
    // One failed write must not fail every later one.
    this.writes = write.catch(() => {});
    return write;
  }

  private forgetExpired() {
    for (const [id, ts] of this.live) if (!fresh(ts, this.now, this.toleranceSeconds)) this.live.delete(id);
  }

  private async compact() {
    const text = [...this.live].map(([id, ts]) => `${JSON.stringify({ id, ts } satisfies Entry)}\n`).join("");
    await writeFileAtomic(this.path, text);
    this.lines = this.live.size;
  }
}

/** Inside the window as `WebhookReceiver` keeps it: not older than the tolerance. */
function fresh(ts: number, now: () => number, toleranceSeconds: number): boolean {
  return Math.floor(now() / 1000) - ts <= toleranceSeconds;
}
