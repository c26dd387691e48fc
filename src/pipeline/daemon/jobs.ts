import type { Logger } from "pino";
import type { DaemonDeps } from "./deps.js";
import { pushOutbox } from "../../delivery/engine/engine.js";
import { outboxStatus } from "../../delivery/outbox/report.js";
import { syncOnce } from "../sync/sync.js";
import { verifyStore } from "../../evidence/verify/store.js";
import type { JobName } from "./config.js";
import type { Lane } from "./lane.js";
import type { DaemonMetrics } from "./metrics.js";

/*
 * What each scheduled job does, every one inside the shared lane. Delivery is its own job, so
 * the sync job only reconciles, seals and checkpoints; a webhook sync pushes right away, since
 * whoever approved a version wants to see it delivered without waiting for the next tick.
 */

export interface JobContext {
  app: DaemonDeps;
  lane: Lane;
  metrics: DaemonMetrics;
}

export async function pushJob({ app, lane, metrics }: JobContext, log: Logger): Promise<void> {
  if (app.targets.length === 0) return;
  await lane.run(async () => {
    const results = await pushOutbox({
      storeRoot: app.storeDir,
      store: app.store,
      ledger: app.ledger,
      targets: app.targets,
      signer: app.signer,
      logger: log,
    });
    for (const [d, r] of Object.entries(results))
      if (r.error) log.error({ destination: d, err: r.error }, "destination could not be prepared");
    // Both in one tick, after the last await: a scrape in between saw records delivered but
    // no backlog gauge for their destination. The deliveries count even if the status fails.
    try {
      metrics.recordBacklog(
        await outboxStatus(
          app.storeDir,
          app,
          app.targets.map((t) => t.name),
        ),
      );
    } finally {
      metrics.recordPush(results);
    }
  });
}

/** Seal these versions now (a webhook's), then deliver. */
export async function syncVersions(
  ctx: JobContext,
  versions: { model: string; version: string }[],
  log: Logger,
): Promise<void> {
  await ctx.lane.run(async () => {
    const r = await syncOnce(ctx.app, { only: versions, push: false });
    ctx.metrics.recordSync(r);
    log.info({ versions: versions.length, sealed: r.sealed }, "webhook sync done");
  });
  await pushJob(ctx, log);
}

/** Sign a checkpoint when entries were appended after the last one (e.g. a crash in between). */
export async function checkpointJob({ app, lane }: JobContext, log: Logger): Promise<void> {
  await lane.run(async () => {
    const last = await app.ledger.latestCheckpoint();
    if (app.ledger.size === 0 || (last && last.checkpoint.size >= app.ledger.size)) return;
    await app.ledger.checkpoint(app.signer);
    log.info({ size: app.ledger.size, previous: last?.checkpoint.size ?? 0 }, "checkpoint signed");
  });
}

/** Verify ledger, checkpoints and objects; returns the number of findings. */
export async function verifyJob({ app, lane, metrics }: JobContext, log: Logger): Promise<number> {
  return lane.run(async () => {
    const started = process.hrtime.bigint();
    const report = await verifyStore(
      { store: app.store, ledger: app.ledger, index: app.index },
      { trust: app.trust },
    );
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    metrics.recordVerify(report.findings.length, seconds);
    if (report.findings.length > 0)
      log.error({ findings: report.findings, entries: report.entries }, "store verification failed");
    else log.info({ entries: report.entries, checkpoints: report.checkpoints }, "store verified");
    return report.findings.length;
  });
}

export const JOBS: Record<JobName, (ctx: JobContext, log: Logger) => Promise<unknown>> = {
  sync: (ctx, log) =>
    ctx.lane.run(async () => {
      const r = await syncOnce(ctx.app, { push: false });
      ctx.metrics.recordSync(r);
      log.info({ changed: r.changed, sealed: r.sealed, checkpoint: r.checkpoint }, "sync done");
    }),
  push: pushJob,
  checkpoint: checkpointJob,
  verify: verifyJob,
};
