import type { Command } from "commander";
import { type MlflowConfig, SOURCES } from "../../../connectors/sources.js";
import { loadConfig } from "../../app/config/load.js";
import { SealgateError } from "../../core/errors.js";
import type { ListedModel } from "../../source/registry-source.js";
import type { CliIO } from "../io.js";

export type { ListedModel };

interface Options {
  config?: string;
  trackingUri?: string;
  model?: string[];
  json?: boolean;
}

/** Resolve where MLflow is: --tracking-uri, then the config file, then MLFLOW_TRACKING_URI. */
export async function mlflowConfigFrom(opts: Options, io: CliIO): Promise<MlflowConfig> {
  const fromFile = opts.config ? (await loadConfig(opts.config)).mlflow : undefined;
  const trackingUri = opts.trackingUri ?? fromFile?.trackingUri ?? io.env.MLFLOW_TRACKING_URI;
  if (!trackingUri) {
    throw new SealgateError(
      "USAGE",
      "no MLflow server given: pass --tracking-uri URL, --config FILE, or set MLFLOW_TRACKING_URI",
    );
  }
  const parsed = SOURCES.mlflow.config.safeParse({
    ...fromFile,
    trackingUri,
    ...(opts.model ? { models: opts.model } : {}),
  });
  if (!parsed.success) {
    throw new SealgateError("USAGE", `--tracking-uri ${trackingUri}: ${parsed.error.issues[0]?.message}`);
  }
  return parsed.data;
}

export function renderModels(models: ListedModel[], limit: number): string {
  const lines: string[] = [];
  for (const m of models) {
    const aliases = Object.entries(m.aliases)
      .map(([a, v]) => `${a}→v${v}`)
      .join(", ");
    lines.push(
      `${m.name}  (${m.versions.length} version${m.versions.length === 1 ? "" : "s"})${aliases ? `  ${aliases}` : ""}`,
    );
    const rows = m.versions.slice(0, limit).map((v) => [
      v.version,
      v.status,
      v.aliases.join(",") || "-",
      Object.entries(v.tags)
        .map(([k, val]) => `${k}=${val.length > 40 ? `${val.slice(0, 40)}…` : val}`)
        .join(" ") || "-",
    ]);
    const table = [["VERSION", "STATUS", "ALIASES", "TAGS"], ...rows];
    const widths = [0, 1, 2].map((i) => Math.max(...table.map((r) => (r[i] ?? "").length)));
    for (const r of table)
      lines.push(`  ${r.map((c, i) => (i < 3 ? c.padEnd(widths[i] ?? 0) : c)).join("  ")}`);
    if (m.versions.length > limit)
      lines.push(`  … ${m.versions.length - limit} older versions (use --all or --json)`);
    lines.push("");
  }
  return lines.length ? lines.join("\n") : "no registered models match\n";
}

export function registerMlflowLs(parent: Command, io: CliIO): void {
  parent
    .command("ls")
    .description("list registered models and their versions with aliases and tags")
    .option("--config <file>", "sealgate config file (its mlflow section is used)")
    .option("--tracking-uri <url>", "MLflow server URL (default: config, then $MLFLOW_TRACKING_URI)")
    .option("--model <pattern...>", "only models matching these names; * and ? are wildcards")
    .option("--all", "show every version (default: the newest 20 per model)")
    .option("--json", "print JSON for scripts")
    .addHelpText(
      "after",
      "\nExamples:\n  $ sealgate mlflow ls --tracking-uri http://127.0.0.1:5000\n  $ sealgate mlflow ls --config sealgate.yaml --model 'credit-*' --json | jq '.models[].name'\n\nAuth comes from the config, or MLFLOW_TRACKING_USERNAME/MLFLOW_TRACKING_PASSWORD or MLFLOW_TRACKING_TOKEN.",
    )
    .action(async (opts: Options & { all?: boolean }) => {
      const source = SOURCES.mlflow.create(await mlflowConfigFrom(opts, io), { env: io.env });
      try {
        const models = await source.listWatched();
        io.out(
          opts.json
            ? `${JSON.stringify({ models }, null, 2)}\n`
            : renderModels(models, opts.all ? Infinity : 20),
        );
      } finally {
        await source.close();
      }
    });
}
