import type { Logger } from "pino";
import type { Document } from "./responses.js";
import { correlationOf } from "./title.js";

/*
 * correlation -> document id, built from one full listing of /v1/documents (Vanta cannot
 * search by title). A hit is trusted (documents are never re-titled by sealgate); a miss
 * always re-lists before anyone may create, so a document made by another process or before
 * a crash is found. Concurrent misses share a listing, but only one that started after them.
 */
export class TitleIndex {
  private ids = new Map<string, string>();
  private addedDuringRefresh: Map<string, string> | null = null;
  private running: Promise<void> | null = null;
  private queued: Promise<void> | null = null;
  /** Whether one full listing has completed. */
  listed = false;

  constructor(
    private readonly listAll: () => AsyncIterable<Document>,
    private readonly logger?: Logger,
  ) {}

  get(correlation: string): string | null {
    return this.ids.get(correlation) ?? null;
  }

  /** Record a document this process just created. */
  add(correlation: string, id: string): void {
    this.ids.set(correlation, id);
    this.addedDuringRefresh?.set(correlation, id);
  }

  /** Drop a document Vanta no longer has, so the next lookup of its record re-lists. */
  forget(id: string): void {
    for (const map of [this.ids, this.addedDuringRefresh]) {
      for (const [c, known] of map ?? []) if (known === id) map?.delete(c);
    }
  }

  /** Re-list everything; resolves with a listing that began after this call. */
  refresh(): Promise<void> {
    if (!this.running) {
      this.running = this.rebuild().finally(() => {
        this.running = null;
      });
      return this.running;
    }
    this.queued ??= this.running
      .catch(() => undefined)
      .then(() => {
        this.queued = null;
        return this.refresh();
      });
    return this.queued;
  }

  private async rebuild(): Promise<void> {
    const fresh = new Map<string, string>();
    this.addedDuringRefresh = new Map();
    try {
      for await (const doc of this.listAll()) {
        const c = correlationOf(doc.title);
        if (c === null) continue;
        const seen = fresh.get(c);
        if (seen !== undefined && seen !== doc.id) {
          // Only another writer could cause this; keep the first so lookups stay stable.
          this.logger?.warn(
            { correlation: c, kept: seen, duplicate: doc.id },
            "two Vanta documents carry one record",
          );
          continue;
        }
        fresh.set(c, doc.id);
      }
      for (const [c, id] of this.addedDuringRefresh) if (!fresh.has(c)) fresh.set(c, id);
      this.ids = fresh;
      this.listed = true;
    } finally {
      this.addedDuringRefresh = null;
    }
  }
}
