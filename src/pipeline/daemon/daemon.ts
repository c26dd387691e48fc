import type { IncomingMessage, ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import type { Logger } from "pino";
import { describeError } from "../../core/errors.js";
import type { JobName } from "./config.js";
import type { DaemonDeps } from "./deps.js";
import type { HttpSecurity } from "./exposure.js";
import { createDaemonServer, listen } from "./http.js";
import { eventsHandler } from "./events-route.js";
import { appendEvent } from "../../governance/events/append.js";
import { fingerprint } from "../../crypto/pki/x509.js";
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
 * /readyz keep saying why. The app is composed by the caller (cli/commands/daemon.ts).
 */

export interface DaemonHandle {
  app: DaemonDeps;
  address: AddressInfo;
  metrics: DaemonMetrics;
  /** Stop scheduling and webhooks, wait for the running step, close the app. */
  stop(): Promise<void>;
  /** Stop scheduling and webhooks; resolves when work under way has ended (app left open). */
  drain(): Promise<void>;
}

export interface DaemonOptions {
  logger: Logger;
  /** The bind's TLS and access token, checked before the app was opened. */
  http: HttpSecurity;
  /** The resolved daemon.webhook.secret, when the webhook is configured. */
  webhookSecret?: string;
}

const APPENDING: JobName[] = ["sync", "checkpoint"];

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

/** Run the daemon on an open app; the caller closes the app if this throws. */
export async function runDaemon(app: DaemonDeps, o: DaemonOptions): Promise<DaemonHandle> {
  const { logger, http } = o;
  const cfg = app.config.daemon;
  const metrics = new DaemonMetrics();
  const ctx: JobContext = { app, lane: new Lane(), metrics };
  const log = logger.child({ component: "daemon" });
  if (app.ledgerRecovery.tornTail || app.ledgerRecovery.tornCheckpoint)
    log.warn({ report: app.ledgerRecovery }, "a torn ledger write from an earlier crash was set aside");

  let verified!: (clean: boolean) => void;
  const webhookLog = logger.child({ job: "webhook" });
  const webhookSync = new WebhookSync(
    (model) => app.source.watched(model),
    (versions) => syncVersions(ctx, versions, webhookLog),
    new Promise<boolean>((resolve) => (verified = resolve)),
    webhookLog,
  );
  const webhook = await webhookIntake(app, o, metrics, webhookSync, log);
  const startup: StartupVerify = { findings: null };
  const events = await eventsIntake(app, startup, log);
  const server = createDaemonServer(
    {
      events,
      ready: () => readinessReasons(app, startup),
      registry: metrics.registry,
      ledger: app.ledger,
      ...(http.accessToken ? { accessToken: http.accessToken } : {}),
      ...(webhook && cfg.webhook ? { webhook: { path: cfg.webhook.path, handle: webhook } } : {}),
    },
    http.tls,
  );
  const address = await listenAndWarn(server, app, http, log);

  const scheduler = new Scheduler(logger, {
    onEnd: (job, result, seconds) => {
      metrics.jobSeconds.observe({ job }, seconds);
      metrics.jobRuns.inc({ job, result });
    },
    onSkip: (job) => metrics.jobSkips.inc({ job }),
  });
  let stopping = false;
  const started = startWork(ctx, {
    logger,
    log,
    scheduler,
    startup,
    verified,
    webhookSync,
    stopping: () => stopping,
  }).catch((err: unknown) => log.error({ err: describeError(err) }, "start-up failed"));

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

/**
 * POST /events: people's signed events appended while the daemon holds the ledger. Refused
 * (503) while start-up verification has not passed, as sync is: a tampered ledger gets nothing.
 */
async function eventsIntake(app: DaemonDeps, startup: StartupVerify, log: Logger) {
  const sealing = [await fingerprint(app.signer.chain[0]!)];
  const elog = log.child({ route: "events" });
  return eventsHandler({
    append: async (jws) => {
      const r = await appendEvent(
        {
          ...app,
          sealing,
          maxClockSkew: app.config.events.maxClockSkew,
          ...(app.now ? { now: app.now } : {}),
        },
        jws,
      );
      elog.info(
        { seq: r.seq, kind: r.event.kind, model: r.event.model, version: r.event.version },
        "event appended",
      );
      return r;
    },
    blocked: () =>
      startup.findings === null && !startup.error
        ? "start-up verification of the ledger is still running; try again shortly"
        : startup.error || startup.findings! > 0
          ? "start-up verification of the ledger failed; run sealgate verify"
          : null,
    onRefuse: (code, reason) => elog.warn({ code, reason }, "event refused"),
  });
}

/** The source's webhook handler, counting and logging each delivery; none when not configured. */
async function webhookIntake(
  app: DaemonDeps,
  o: DaemonOptions,
  metrics: DaemonMetrics,
  webhookSync: WebhookSync,
  log: Logger,
): Promise<Handler | undefined> {
  const hook = app.config.daemon.webhook;
  if (!hook) return undefined;
  const seen = await openSeen(app, hook.toleranceSeconds, log);
  return app.source.webhook({
    secret: o.webhookSecret ?? "",
    toleranceSeconds: hook.toleranceSeconds,
    seen: seen.entries(),
    journal: seen,
    onEvent: (event) => {
      metrics.webhooks.inc({ result: "accepted" });
      webhookSync.accept(event);
    },
    onReject: ({ code, status, reason, deliveryId }) => {
      metrics.webhooks.inc({ result: code });
      log.warn({ code, status, reason, deliveryId }, "webhook delivery refused");
    },
  });
}

/** Listen, say where, and warn when the bind is open beyond loopback without protection. */
async function listenAndWarn(
  server: Parameters<typeof listen>[0],
  app: DaemonDeps,
  http: HttpSecurity,
  log: Logger,
): Promise<AddressInfo> {
  const cfg = app.config.daemon;
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
  return address;
}

/**
 * Start-up, in order: verify the store; if clean, checkpoint what a crash left uncovered; then
 * schedule the jobs (the appending ones only on a clean store).
 */
async function startWork(
  ctx: JobContext,
  s: {
    logger: Logger;
    log: Logger;
    scheduler: Scheduler;
    startup: StartupVerify;
    verified: (clean: boolean) => void;
    webhookSync: WebhookSync;
    stopping: () => boolean;
  },
): Promise<void> {
  const { logger, log, scheduler, startup } = s;
  const cfg = ctx.app.config.daemon;
  try {
    startup.findings = await verifyJob(ctx, logger.child({ job: "verify", at: "start-up" }));
  } catch (err) {
    startup.error = describeError(err);
    log.error({ err: startup.error }, "start-up verification failed");
  }
  const clean = startup.findings === 0;
  s.verified(clean);
  if (!clean) await s.webhookSync.close();
  // A crash between sealing and checkpointing left entries no signature covers yet. Failing
  // here is the checkpoint job's to retry, not a reason to run no jobs at all.
  else
    await checkpointJob(ctx, logger.child({ job: "checkpoint", at: "start-up" })).catch((err: unknown) =>
      log.error({ err: describeError(err) }, "start-up checkpoint failed"),
    );
  if (s.stopping()) return;
  for (const [name, job] of Object.entries(cfg.jobs) as [JobName, (typeof cfg.jobs)[JobName]][]) {
    if (!clean && APPENDING.includes(name)) {
      log.error({ job: name }, "job disabled: the store failed start-up verification");
      continue;
    }
    scheduler.add({ name, ...job, run: (l) => JOBS[name](ctx, l).then(() => undefined) });
  }
  scheduler.start();
  log.info({ jobs: cfg.jobs }, "scheduler started");
}

/** The webhook delivery ids accepted before this start that are still inside the replay window. */
async function openSeen(app: DaemonDeps, toleranceSeconds: number, log: Logger): Promise<SeenDeliveries> {
  const path = join(app.storeDir, ...SEEN_FILE);
  const { seen, report } = await SeenDeliveries.open(path, toleranceSeconds);
  if (report.tornBytes > 0)
    log.warn(
      { path, ...report },
      "a torn line in the webhook replay journal (a crash mid-write) was set aside",
    );
  else log.debug({ path, ...report }, "webhook replay journal loaded");
  return seen;
}
