/*
 * One lane for everything that writes the store or reads the ledger file (sealing, pushing,
 * checkpointing, verifying): steps run one at a time in arrival order, so a webhook-triggered
 * seal never runs beside the sync job and a verify never reads a half-appended entry.
 */
export class Lane {
  private tail: Promise<unknown> = Promise.resolve();
  private depth = 0;

  run<T>(step: () => Promise<T>): Promise<T> {
    this.depth++;
    const result = this.tail.then(step);
    this.tail = result.then(
      () => this.depth--,
      () => this.depth--,
    );
    return result;
  }

  /** Steps queued or running. */
  get busy(): number {
    return this.depth;
  }

  /** Resolves when every step queued so far has ended. */
  idle(): Promise<void> {
    return this.tail.then(() => undefined);
  }
}
