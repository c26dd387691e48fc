import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { SealgateError } from "../../core/errors.js";
import { acquireLock, type Lock } from "../../evidence/ledger/lock.js";
import { appendJsonl, readJsonl } from "../../evidence/store/jsonl.js";
import { apply, fold, type RecordState, Transition } from "./state.js";

/*
 * The durable outbox of one destination: <store>/outbox/<destination>.jsonl, append-only
 * fsynced transitions. One writer at a time (a pusher pass or `outbox retry`), by the same
 * dead-holder-aware lock file as the ledger; readers (`outbox list`, `status`) take no lock.
 */

export const outboxDir = (storeRoot: string) => join(storeRoot, "outbox");

/** Destination names become file names: letters, digits, ".", "_" and "-", not leading. */
export const DESTINATION_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;

export function outboxPath(storeRoot: string, destination: string): string {
  if (!DESTINATION_NAME.test(destination))
    throw new SealgateError(
      "CONFIG_INVALID",
      `destination name ${JSON.stringify(destination)} must be letters, digits, '.', '_' or '-'`,
    );
  return join(outboxDir(storeRoot), `${destination}.jsonl`);
}

/** Every state of a destination, read without a lock (a torn last line is ignored). */
export async function readOutbox(storeRoot: string, destination: string): Promise<Map<string, RecordState>> {
  return fold((await readJsonl(outboxPath(storeRoot, destination), Transition)).items);
}

export class OutboxWriter {
  private chain = Promise.resolve();
  private constructor(
    readonly destination: string,
    private readonly path: string,
    private readonly lock: Lock,
    readonly states: Map<string, RecordState>,
  ) {}

  static async open(
    storeRoot: string,
    destination: string,
    opts: { waitMs?: number } = {},
  ): Promise<OutboxWriter> {
    const path = outboxPath(storeRoot, destination);
    await mkdir(outboxDir(storeRoot), { recursive: true });
    const lock = await acquireLock(`${path}.lock`, opts.waitMs ?? 0, {
      code: "OUTBOX_LOCKED",
      what: `outbox ${destination} is being written by another sealgate process`,
      advice: "wait for its push to finish",
    });
    try {
      const { items } = await readJsonl(path, Transition, { repair: true });
      return new OutboxWriter(destination, path, lock, fold(items));
    } catch (err) {
      await lock.release();
      throw err;
    }
  }

  get(record: string): RecordState | undefined {
    return this.states.get(record);
  }

  /** Persist a transition (fsynced, in call order), then apply it in memory. */
  record(t: Transition): Promise<RecordState> {
    const parsed = Transition.parse(t);
    const run = this.chain.then(async () => {
      await appendJsonl(this.path, [parsed]);
      const next = apply(this.states.get(parsed.record), parsed);
      this.states.set(parsed.record, next);
      return next;
    });
    this.chain = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }

  async close(): Promise<void> {
    await this.chain;
    await this.lock.release();
  }
}
