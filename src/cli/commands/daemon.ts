import type { Command } from "commander";
import type { Logger } from "pino";
import { openApp } from "../../app/open.js";
import { loadConfig } from "../../app/config/load.js";
import { resolveSecret } from "../../core/secrets.js";
import { type DaemonHandle, runDaemon } from "../../pipeline/daemon/daemon.js";
import { prepareHttp } from "../../pipeline/daemon/exposure.js";
import { capHeapGrowth } from "../../pipeline/daemon/heap.js";
import { humanStream } from "../../pipeline/daemon/human-log.js";
import { runOnce } from "../../pipeline/daemon/once.js";
import { untilSignal } from "../../pipeline/daemon/signals.js";
import { createAppLogger } from "../../app/logger.js";
import type { CliIO } from "../io.js";

export interface DaemonOptions {
  env?: NodeJS.ProcessEnv;
  logger: Logger;
}

/** Compose the daemon: its bind checked, then the app opened (ledger locked), then run. */
export async function startDaemon(configPath: string, o: DaemonOptions): Promise<DaemonHandle> {
  const env = o.env ?? process.env;
  // Refused before the ledger is locked or a key loaded: an exposed bind is a config error.
  const http = await prepareHttp((await loadConfig(configPath)).daemon, configPath, env);
  const app = await openApp(configPath, { env, logger: o.logger });
  try {
    const hook = app.config.daemon.webhook;
    const webhookSecret = hook ? resolveSecret(hook.secret, "daemon.webhook.secret", env) : undefined;
    return await runDaemon(app, { logger: o.logger, http, ...(webhookSecret ? { webhookSecret } : {}) });
  } catch (err) {
    await app.close();
    throw err;
  }
}

/** `--once`: open the app, run each job once, close it. */
async function daemonOnce(configPath: string, o: DaemonOptions): Promise<number> {
  const app = await openApp(configPath, { ...(o.env ? { env: o.env } : {}), logger: o.logger });
  try {
    return await runOnce(app, { logger: o.logger });
  } finally {
    await app.close();
  }
}

export function registerDaemon(program: Command, io: CliIO, setExit: (code: 0 | 1) => void): void {
  program
    .command("daemon")
    .description(
      "run the scheduled jobs (sync, push, checkpoint, verify), /healthz, /readyz, /metrics and the MLflow webhook",
    )
    .requiredOption("--config <file>", "sealgate config (mlflow, store, policy, trust, sealing, daemon)")
    .option(
      "--once",
      "verify the store, then run sync, push and checkpoint once and exit; 1 if verification fails",
    )
    .addHelpText(
      "after",
      [
        "",
        "Example:",
        "  $ sealgate daemon --config /etc/sealgate/sealgate.yaml",
        "  $ curl -s http://127.0.0.1:9464/metrics | grep sealgate_records_sealed_total",
        "",
        "SIGTERM or SIGINT stops scheduling and lets the running step finish (daemon.shutdownGraceSeconds);",
        "a second signal exits at once. Logs are pino JSON on stderr (readable lines on a terminal).",
      ].join("\n"),
    )
    .action(async (opts: { config: string; once?: boolean }) => {
      capHeapGrowth();
      // JSON for log collectors; one readable line per entry for a person at a terminal.
      const logger = createAppLogger(process.stderr.isTTY ? { destination: humanStream() } : {});
      if (opts.once) {
        const findings = await daemonOnce(opts.config, { env: io.env, logger });
        if (findings > 0) setExit(1);
        return;
      }
      const daemon = await startDaemon(opts.config, { env: io.env, logger });
      await untilSignal(
        daemon,
        daemon.app.config.daemon.shutdownGraceSeconds,
        logger.child({ component: "daemon" }),
      );
    });
}
