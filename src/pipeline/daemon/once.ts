import type { Logger } from "pino";
import type { DaemonDeps } from "./deps.js";
import { JOBS, verifyJob } from "./jobs.js";
import { Lane } from "./lane.js";
import { DaemonMetrics } from "./metrics.js";

/**
 * `sealgate daemon --once`: what a daemon start and one tick of each job do, then exit: verify
 * the store, and only if it is sound sync, push and checkpoint (a store that fails
 * verification gets no new entries). For cron-driven hosts and smoke tests. Returns the
 * number of verification findings. The caller opens the app and closes it.
 */
export async function runOnce(app: DaemonDeps, o: { logger: Logger }): Promise<number> {
  const ctx = { app, lane: new Lane(), metrics: new DaemonMetrics() };
  const findings = await verifyJob(ctx, o.logger.child({ job: "verify" }));
  if (findings > 0) return findings;
  await JOBS.sync(ctx, o.logger.child({ job: "sync" }));
  await JOBS.push(ctx, o.logger.child({ job: "push" }));
  await JOBS.checkpoint(ctx, o.logger.child({ job: "checkpoint" }));
  return 0;
}
