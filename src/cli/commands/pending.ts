import { resolve } from "node:path";
import type { Command } from "commander";
import { SOURCES } from "../../../connectors/sources.js";
import { loadConfig } from "../../app/config/load.js";
import { openEvidenceStore, readStore } from "../../app/store.js";
import { SealgateError } from "../../core/errors.js";
import { formatWait, type PendingReport, pendingReviews } from "../../governance/approvals/pending.js";
import { loadPolicy } from "../../policy/schema.js";
import type { CliIO } from "../io.js";
import { configTrust } from "../personal-signer.js";

/*
 * `sealgate pending`: the approver's inbox. Read-only (no ledger lock), so it runs beside the
 * daemon; what it says comes from the verified approvals, not from the registry's state tag.
 */

interface Options {
  config: string;
  role?: string;
  json?: boolean;
}

export function registerPending(program: Command, io: CliIO): void {
  program
    .command("pending")
    .description("list the versions under review and the role each awaits, oldest wait first")
    .requiredOption("--config <file>", "sealgate config (mlflow, store.path, trust, policy)")
    .option("--role <role>", "only versions awaiting this role")
    .option("--json", "print the list as JSON")
    .addHelpText(
      "after",
      `
Each line: the role awaited (or "ML team" after request-changes), the model and version, the
tier, how long it has waited (since the package was assembled or the last counted decision),
and the first line of the request.

Example:
  $ sealgate pending --config sealgate.yaml --role model-risk
  1 version awaits a decision
    ROLE        MODEL        VERSION  TIER      WAITING  SINCE                     REQUEST
    model-risk  credit-risk  3        material  2h 5m    2026-11-21T10:00:00.000Z  Adds tenure_months`,
    )
    .action(async (opts: Options) => {
      const config = await loadConfig(opts.config);
      if (!config.store || !config.policy)
        throw new SealgateError(
          "CONFIG_INVALID",
          `config ${opts.config}: pending needs store.path and policy`,
        );
      const trust = await configTrust(config, opts.config);
      const { policy } = await loadPolicy(resolve(opts.config, "..", config.policy));
      const storeDir = resolve(opts.config, "..", config.store.path);
      const store = await openEvidenceStore(storeDir);
      // Read beside the writer, without its lock: decision events judge a cycle as the sealer will.
      const ledger = readStore(storeDir).ledger;
      const source = SOURCES.mlflow.create(config.mlflow, { env: io.env });
      try {
        const report = await pendingReviews(
          { source, store, trust, policy, ledger },
          { now: new Date(), ...(opts.role ? { role: opts.role } : {}) },
        );
        io.out(opts.json ? `${JSON.stringify(report, null, 2)}\n` : renderPending(report, opts.role));
      } finally {
        await source.close();
      }
    });
}

export function renderPending(report: PendingReport, role?: string): string {
  const n = report.pending.length;
  const lines = [
    n === 0
      ? `nothing awaits ${role ?? "a decision"}`
      : `${n} version${n === 1 ? " awaits" : "s await"} ${role ?? "a decision"}`,
  ];
  if (n > 0) {
    const rows = report.pending.map((p) => [
      p.nextRole ?? "ML team",
      p.model,
      p.version,
      p.tier,
      formatWait(p.waitedSeconds),
      p.since,
      p.request,
    ]);
    const table = [["ROLE", "MODEL", "VERSION", "TIER", "WAITING", "SINCE", "REQUEST"], ...rows];
    const widths = table[0]!.map((_, i) => Math.max(...table.map((r) => r[i]!.length)));
    for (const r of table)
      lines.push(`  ${r.map((c, i) => (i < r.length - 1 ? c.padEnd(widths[i]!) : c)).join("  ")}`);
  }
  for (const u of report.unreadable)
    lines.push(`  ${u.model} v${u.version}: cannot read its review: ${u.error}`);
  return `${lines.join("\n")}\n`;
}
