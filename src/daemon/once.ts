import type { Logger } from "pino";
import { openApp } from "../app.js";
import { JOBS, verifyJob } from "./jobs.js";
import { Lane } from "./lane.js";
import { DaemonMetrics } from "./metrics.js";

/**
 * `sealgate daemon --once`: what a daemon start and one tick of each job do, then exit: verify
 * the store, and only if it is sound sync, push and checkpoint (a store that fails
 * verification gets no new entries). For cron-driven hosts and smoke tests. Returns the
 * number of verification findings.
 */
export async function runOnce(
  configPath: string,
  o: { env?: NodeJS.ProcessEnv; logger: Logger },
): Promise<number> {
  const app = await openApp(configPath, { ...(o.env ? { env: o.env } : {}), logger: o.logger });
  try {
    const ctx = { app, lane: new Lane(), metrics: new DaemonMetrics() };
    const findings = await verifyJob(ctx, o.logger.child({ job: "verify" }));
    if (findings > 0) return findings;
    await JOBS.sync(ctx, o.logger.child({ job: "sync" }));
    await JOBS.push(ctx, o.logger.child({ job: "push" }));
    await JOBS.checkpoint(ctx, o.logger.child({ job: "checkpoint" }));
    return 0;
  } finally {
    await app.close();
  }
}
