import type { Command } from "commander";
import { openApp } from "../../app/open.js";
import { createAppLogger } from "../../app/logger.js";
import { syncOnce } from "../../pipeline/sync/sync.js";
import type { CliIO } from "../io.js";
import { progressBar } from "../progress.js";

interface Options {
  config: string;
  push: boolean;
  json?: boolean;
}

export function registerSync(program: Command, io: CliIO, setExit: (code: 0 | 1 | 3) => void): void {
  program
    .command("sync")
    .description(
      "one evidence sync: reconcile MLflow, seal completed review cycles, sign a checkpoint, push to destinations",
    )
    .requiredOption(
      "--config <file>",
      "sealgate config (mlflow, store, policy, trust, sealing, destinations)",
    )
    .option("--no-push", "seal and checkpoint only; leave deliveries for later")
    .option("--json", "print the report as JSON")
    .addHelpText(
      "after",
      `
Exit 0 when every version and destination went through, 3 when any sealing or delivery failed
(each is named in the report; the next sync retries it).

Example:
  $ sealgate sync --config sealgate.yaml`,
    )
    .action(async (opts: Options) => {
      const app = await openApp(opts.config, {
        env: io.env,
        logger: createAppLogger({ level: io.env.SEALGATE_LOG_LEVEL ?? "warn" }),
      });
      const bar = progressBar(io, "sealing");
      try {
        const report = await syncOnce(app, { push: opts.push, onVersion: (d, t) => bar.update(d, t) });
        bar.finish();
        const failed =
          report.outcomes.some((o) => o.outcome === "error") ||
          Object.values(report.deliveries).some((d) => d.error || d.failed > 0);
        if (failed) setExit(3);
        if (opts.json) return void io.out(`${JSON.stringify(report, null, 2)}\n`);
        io.out(
          `versions checked: ${report.changed}; sealed: ${report.sealed}${report.checkpoint ? `; checkpoint at size ${report.checkpoint}` : ""}\n`,
        );
        for (const o of report.outcomes.filter((x) => x.outcome !== "already-sealed"))
          io.out(
            `  ${o.model} v${o.version}: ${o.outcome === "waiting" && o.detail ? o.detail : `${o.outcome}${o.detail ? ` ${o.detail}` : ""}`}\n`,
          );
        for (const [name, d] of Object.entries(report.deliveries))
          io.out(
            `  ${name}: ${d.error ? `not started: ${d.error}` : `delivered ${d.delivered}, failed ${d.failed}, waiting for a checkpoint ${d.waiting}`}\n`,
          );
      } finally {
        await app.close();
      }
    });
}
