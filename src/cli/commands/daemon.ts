import type { Command } from "commander";
import { startDaemon } from "../../daemon/daemon.js";
import { capHeapGrowth } from "../../daemon/heap.js";
import { humanStream } from "../../daemon/human-log.js";
import { runOnce } from "../../daemon/once.js";
import { untilSignal } from "../../daemon/signals.js";
import { createAppLogger } from "../../app/logger.js";
import type { CliIO } from "../io.js";

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
        const findings = await runOnce(opts.config, { env: io.env, logger });
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
