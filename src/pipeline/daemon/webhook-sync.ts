import type { Logger } from "pino";
import { describeError } from "../../core/errors.js";
import type { VersionChangedEvent } from "../../source/registry-source.js";

/*
 * Turns verified webhook events into immediate syncs of the versions they name. MLflow sends
 * one delivery per tag, so an approval is a burst: versions are collected while a sync runs
 * and the next pass takes them all at once. Events naming no version, or a model sealgate
 * does not watch, are left to the sync job. Nothing runs until the start-up verification
 * passed (`allowed` resolves true): a store that failed it gets no new entries.
 */

export type Version = { model: string; version: string };

export class WebhookSync {
  private readonly pending = new Map<string, Version>();
  private draining: Promise<void> | null = null;
  private closed = false;

  constructor(
    /** Whether the source watches this model (RegistrySource.watched). */
    private readonly watched: (model: string) => boolean,
    private readonly sync: (versions: Version[]) => Promise<void>,
    private readonly allowed: Promise<boolean>,
    private readonly log: Logger,
  ) {}

  accept(event: VersionChangedEvent): void {
    if (this.closed || !event.version || !this.watched(event.model)) return;
    this.pending.set(`${event.model}\n${event.version}`, { model: event.model, version: event.version });
    this.draining ??= this.drain().finally(() => {
      this.draining = null;
    });
  }

  private async drain(): Promise<void> {
    if (!(await this.allowed)) {
      this.closed = true;
      this.pending.clear();
      return;
    }
    while (this.pending.size > 0 && !this.closed) {
      const batch = [...this.pending.values()];
      this.pending.clear();
      try {
        await this.sync(batch);
      } catch (err) {
        // The sync job will pick these versions up again; nothing is lost by giving up here.
        this.log.error({ versions: batch, err: describeError(err) }, "webhook sync failed");
      }
    }
  }

  /** Take no more events; resolves when the sync under way (if any) ends. */
  async close(): Promise<void> {
    this.closed = true;
    await this.draining;
  }
}
