import { schedule as cronSchedule, type ScheduledTask } from "node-cron";
import type { Logger } from "pino";
import { describeError } from "../../core/errors.js";

/*
 * Cron-driven jobs that never overlap themselves: a tick that arrives while the previous run
 * of the same job is still going (or still waiting out its jitter) is skipped and counted, so
 * a slow verify can never pile up behind itself. node-cron only supplies the ticks.
 */

export interface JobSpec {
  name: string;
  schedule: string;
  jitterSeconds: number;
  run: (log: Logger) => Promise<void>;
}

export interface JobEvents {
  onStart?: (job: string) => void;
  onEnd?: (job: string, result: "ok" | "failed", seconds: number) => void;
  onSkip?: (job: string) => void;
}

interface Entry {
  spec: JobSpec;
  log: Logger;
  task?: ScheduledTask;
  running?: Promise<void>;
  timer?: NodeJS.Timeout;
  cancelJitter?: () => void;
}

export class Scheduler {
  private readonly jobs = new Map<string, Entry>();
  private stopped = false;

  constructor(
    private readonly logger: Logger,
    private readonly events: JobEvents = {},
    private readonly random: () => number = Math.random,
  ) {}

  add(spec: JobSpec): void {
    this.jobs.set(spec.name, { spec, log: this.logger.child({ job: spec.name }) });
  }

  /** Start the cron ticks of every job added. */
  start(): void {
    for (const e of this.jobs.values()) {
      e.task = cronSchedule(e.spec.schedule, () => void this.trigger(e.spec.name), { name: e.spec.name });
    }
  }

  /**
   * What a tick does: start a run after its jitter unless one is already waiting or running.
   * Returns the run (resolved when it ends, never rejected), or null when skipped.
   */
  trigger(name: string): Promise<void> | null {
    const e = this.jobs.get(name);
    if (!e) throw new Error(`no job named ${name}`);
    if (this.stopped) return null;
    if (e.running) {
      e.log.warn("previous run still going; this run is skipped");
      this.events.onSkip?.(name);
      return null;
    }
    const run = this.jittered(e).finally(() => {
      e.running = undefined;
    });
    e.running = run;
    return run;
  }

  private async jittered(e: Entry): Promise<void> {
    const delayMs = Math.floor(this.random() * e.spec.jitterSeconds * 1000);
    if (delayMs > 0) {
      const go = await new Promise<boolean>((resolve) => {
        e.timer = setTimeout(() => resolve(true), delayMs);
        e.cancelJitter = () => resolve(false);
      });
      e.timer = undefined;
      e.cancelJitter = undefined;
      if (!go || this.stopped) return;
    }
    this.events.onStart?.(e.spec.name);
    e.log.info("run started");
    const started = process.hrtime.bigint();
    let result: "ok" | "failed" = "ok";
    try {
      await e.spec.run(e.log);
    } catch (err) {
      result = "failed";
      e.log.error({ err: describeError(err) }, "run failed");
    }
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    e.log.info({ result, seconds }, "run ended");
    this.events.onEnd?.(e.spec.name, result, seconds);
  }

  /** Stop ticking and cancel runs still waiting out their jitter; resolves when running ones end. */
  async stop(): Promise<void> {
    this.stopped = true;
    const running: Promise<void>[] = [];
    for (const e of this.jobs.values()) {
      await e.task?.destroy();
      if (e.timer) clearTimeout(e.timer);
      e.cancelJitter?.();
      if (e.running) running.push(e.running);
    }
    await Promise.all(running);
  }
}
