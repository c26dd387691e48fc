import type { AddressInfo } from "node:net";
import { join } from "node:path";
import type { Logger } from "pino";
import { WebhookReceiver, webhookHandler } from "../../connectors/mlflow/webhook.js";
import { type App, openApp } from "../app.js";
import { loadConfig } from "../config/load.js";
import { resolveSecret } from "../core/secrets.js";
import { describeError } from "../errors.js";
import type { JobName } from "./config.js";
import { type HttpSecurity, prepareHttp } from "./exposure.js";
import { createDaemonServer, listen } from "./http.js";
import { checkpointJob, type JobContext, JOBS, syncVersions, verifyJob } from "./jobs.js";
import { Lane } from "./lane.js";
import { DaemonMetrics } from "./metrics.js";
import { readinessReasons, type StartupVerify } from "./readiness.js";
import { Scheduler } from "./scheduler.js";
import { SEEN_FILE, SeenDeliveries } from "./seen-deliveries.js";
import { WebhookSync } from "./webhook-sync.js";

/*
 * `sealgate daemon`: one app, one lane of work, the four scheduled jobs, and the HTTP face.
 * Start-up verifies the store first; a store that fails verification gets no new entries
 * (sync, checkpoint and webhook syncs stay off) until a person looks, but /metrics and
 * /readyz keep saying why.
 */

export interface DaemonHandle {
  app: App;
  address: AddressInfo;
  metrics: DaemonMetrics;
  /** Stop scheduling and webhooks, wait for the running step, close the app. */
  stop(): Promise<void>;
  /** Stop scheduling and webhooks; resolves when work under way has ended (app left open). */
  drain(): Promise<void>;
}

export interface DaemonOptions {
  env?: NodeJS.ProcessEnv;
  logger: Logger;
}

const APPENDING: JobName[] = ["sync", "checkpoint"];

export async function startDaemon(configPath: string, o: DaemonOptions): Promise<DaemonHandle> {
  const env = o.env ?? process.env;
  // Refused before the ledger is locked or a key loaded: an exposed bind is a config error.
  const http = await prepareHttp((await loadConfig(configPath)).daemon, configPath, env);
  const app = await openApp(configPath, { env, logger: o.logger });
  try {
    return await run(app, o.logger, env, http);
  } catch (err) {
    await app.close();
    throw err;
  }
}

async function run(
  app: App,
  logger: Logger,
  env: NodeJS.ProcessEnv,
  http: HttpSecurity,
): Promise<DaemonHandle> {
  const cfg = app.config.daemon;
  const metrics = new DaemonMetrics();
  const ctx: JobContext = { app, lane: new Lane(), metrics };
  const log = logger.child({ component: "daemon" });
  if (app.ledger.report.tornTail || app.ledger.report.tornCheckpoint)
    log.warn({ report: app.ledger.report }, "a torn ledger write from an earlier crash was set aside");

  let verified!: (clean: boolean) => void;
  const webhookLog = logger.child({ job: "webhook" });
  const webhookSync = new WebhookSync(
    app.config.mlflow.models,
    (versions) => syncVersions(ctx, versions, webhookLog),
    new Promise<boolean>((resolve) => (verified = resolve)),
    webhookLog,
  );
  const seen = cfg.webhook ? await openSeen(app, cfg.webhook.toleranceSeconds, log) : undefined;
  const receiver = cfg.webhook
    ? new WebhookReceiver({
        secret: resolveSecret(cfg.webhook.secret, "daemon.webhook.secret", env),
        toleranceSeconds: cfg.webhook.toleranceSeconds,
        ...(seen ? { seen: seen.entries(), journal: seen } : {}),
      })
    : undefined;
  const startup: StartupVerify = { findings: null };
  const server = createDaemonServer(
    {
      ready: () => readinessReasons(app, startup),
      registry: metrics.registry,
      ledgerDir: app.ledger.dir,
      ...(http.accessToken ? { accessToken: http.accessToken } : {}),
      ...(receiver && cfg.webhook
        ? {
            webhook: {
              path: cfg.webhook.path,
              handle: webhookHandler(
                receiver,
                (event) => {
                  metrics.webhooks.inc({ result: "accepted" });
                  webhookSync.accept(event);
                },
                ({ code, status, reason, deliveryId }) => {
                  metrics.webhooks.inc({ result: code });
                  log.warn({ code, status, reason, deliveryId }, "webhook delivery refused");
                },
              ),
            },
          }
        : {}),
    },
    http.tls,
  );
  const address = await listen(server, cfg.listen.host, cfg.listen.port);
  log.info(
    {
      host: address.address,
      port: address.port,
      tls: Boolean(http.tls),
      auth: http.accessToken ? "bearer" : "none",
    },
    "listening",
  );
  if (http.insecure.length > 0)
    log.warn(
      { host: cfg.listen.host, missing: http.insecure },
      "serving /metrics and the ledger beyond loopback without TLS or an access token, as daemon.allowInsecureBind allows",
    );

  const scheduler = new Scheduler(logger, {
    onEnd: (job, result, seconds) => {
      metrics.jobSeconds.observe({ job }, seconds);
      metrics.jobRuns.inc({ job, result });
    },
    onSkip: (job) => metrics.jobSkips.inc({ job }),
  });
  let stopping = false;
  const startWork = async () => {
    try {
      startup.findings = await verifyJob(ctx, logger.child({ job: "verify", at: "start-up" }));
    } catch (err) {
      startup.error = describeError(err);
      log.error({ err: startup.error }, "start-up verification failed");
    }
    const clean = startup.findings === 0;
    verified(clean);
    if (!clean) await webhookSync.close();
    // A crash between sealing and checkpointing left entries no signature covers yet. Failing
    // here is the checkpoint job's to retry, not a reason to run no jobs at all.
    else
      await checkpointJob(ctx, logger.child({ job: "checkpoint", at: "start-up" })).catch((err: unknown) =>
        log.error({ err: describeError(err) }, "start-up checkpoint failed"),
      );
    if (stopping) return;
    for (const [name, job] of Object.entries(cfg.jobs) as [JobName, (typeof cfg.jobs)[JobName]][]) {
      if (!clean && APPENDING.includes(name)) {
        log.error({ job: name }, "job disabled: the store failed start-up verification");
        continue;
      }
      scheduler.add({ name, ...job, run: (l) => JOBS[name](ctx, l).then(() => undefined) });
    }
    scheduler.start();
    log.info({ jobs: cfg.jobs }, "scheduler started");
  };
  const started = startWork().catch((err: unknown) =>
    log.error({ err: describeError(err) }, "start-up failed"),
  );

  const drain = async () => {
    stopping = true;
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeIdleConnections();
    });
    await started;
    await Promise.all([scheduler.stop(), webhookSync.close()]);
    await ctx.lane.idle();
  };
  return {
    app,
    address,
    metrics,
    drain,
    async stop() {
      await drain();
      await app.close();
    },
  };
}

/** The webhook delivery ids accepted before this start that are still inside the replay window. */
async function openSeen(app: App, toleranceSeconds: number, log: Logger): Promise<SeenDeliveries> {
  const path = join(app.store.root, ...SEEN_FILE);
  const { seen, report } = await SeenDeliveries.open(path, toleranceSeconds);
  if (report.tornBytes > 0)
    log.warn(
      { path, ...report },
      "a torn line in the webhook replay journal (a crash mid-write) was set aside",
    );
  else log.debug({ path, ...report }, "webhook replay journal loaded");
  return seen;
}
