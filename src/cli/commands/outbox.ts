import { resolve } from "node:path";
import type { Command } from "commander";
import { loadConfig } from "../../config/load.js";
import { SealgateError } from "../../errors.js";
import { outboxRows, outboxStatus } from "../../outbox/report.js";
import { retryDeliveries } from "../../outbox/retry.js";
import { DELIVERY_STATES, type DeliveryState } from "../../outbox/state.js";
import type { CliIO } from "../io.js";

/** The store and the destinations (all, or the one asked for) a config names. */
async function scope(configPath: string, only?: string) {
  const config = await loadConfig(configPath);
  if (!config.store)
    throw new SealgateError(
      "CONFIG_INVALID",
      `config ${configPath}: store.path is needed to find the outbox`,
    );
  const names = Object.keys(config.destinations ?? {});
  if (only && !names.includes(only))
    throw new SealgateError(
      "USAGE",
      `--destination ${only} is not in ${configPath}; configured: ${names.join(", ") || "(none)"}`,
    );
  return { storeRoot: resolve(configPath, "..", config.store.path), names: only ? [only] : names };
}

const age = (s: number | null) =>
  s === null ? "—" : s < 120 ? `${s}s` : s < 7200 ? `${Math.round(s / 60)}m` : `${Math.round(s / 3600)}h`;

export function registerOutbox(program: Command, io: CliIO): void {
  const outbox = program
    .command("outbox")
    .description("delivery state of sealed records per GRC destination")
    .addHelpText("after", "\nExample:\n  $ sealgate outbox list --config sealgate.yaml --state dead")
    .exitOverride()
    .configureOutput({ writeOut: io.out, writeErr: io.err });

  outbox
    .command("list")
    .description("one line per (record, destination): state, attempts, remote id, last error")
    .requiredOption("--config <file>", "sealgate config (store.path, destinations)")
    .option("--destination <name>", "only this destination")
    .option("--state <state>", `only this state: ${DELIVERY_STATES.join(", ")}`)
    .option("--json", "print JSON")
    .addHelpText(
      "after",
      "\nExample:\n  $ sealgate outbox list --config sealgate.yaml --destination servicenow-prod --state failed",
    )
    .action(async (opts: { config: string; destination?: string; state?: string; json?: boolean }) => {
      if (opts.state && !DELIVERY_STATES.includes(opts.state as DeliveryState))
        throw new SealgateError("USAGE", `--state ${opts.state}: use one of ${DELIVERY_STATES.join(", ")}`);
      const { storeRoot, names } = await scope(opts.config, opts.destination);
      const rows = (await outboxRows(storeRoot, names)).filter((r) => !opts.state || r.state === opts.state);
      if (opts.json) return void io.out(`${JSON.stringify(rows, null, 2)}\n`);
      for (const r of rows) {
        const extra = [
          r.attempts ? `attempts ${r.attempts}` : "",
          r.remote ? `remote ${r.remote.id}` : "",
          r.lastError ? `error: ${r.lastError}` : "",
        ].filter(Boolean);
        io.out(`${r.destination}\t${r.record}\t${r.state}${extra.length ? `\t${extra.join("; ")}` : ""}\n`);
      }
      if (rows.length === 0) io.out("no deliveries match\n");
    });

  outbox
    .command("retry")
    .description("put failed and dead deliveries back to pending (with a fresh attempt count)")
    .requiredOption("--config <file>", "sealgate config (store.path, destinations)")
    .option("--destination <name>", "only this destination")
    .option("--record <digest>", "only this record (sha256:...)")
    .addHelpText(
      "after",
      "\nThe next push (daemon or sealgate sync) delivers them; a record already created remotely is\nfinished, never created twice.\n\nExample:\n  $ sealgate outbox retry --config sealgate.yaml --destination vanta --record sha256:3f…",
    )
    .action(async (opts: { config: string; destination?: string; record?: string }) => {
      if (opts.record && !/^sha256:[0-9a-f]{64}$/.test(opts.record))
        throw new SealgateError("USAGE", `--record ${opts.record}: expected sha256:<64 lowercase hex>`);
      const { storeRoot, names } = await scope(opts.config, opts.destination);
      for (const name of names) {
        const n = await retryDeliveries(storeRoot, name, opts.record ? { record: opts.record } : {});
        io.out(`${name}: ${n} ${n === 1 ? "delivery" : "deliveries"} back to pending\n`);
      }
    });

  program
    .command("status")
    .description(
      "deliveries per destination: pending, in flight, failed, dead, delivered, oldest pending age",
    )
    .requiredOption("--config <file>", "sealgate config (store.path, destinations)")
    .option("--json", "print JSON")
    .addHelpText("after", "\nExample:\n  $ sealgate status --config sealgate.yaml --json")
    .action(async (opts: { config: string; json?: boolean }) => {
      const { storeRoot, names } = await scope(opts.config);
      const status = await outboxStatus(storeRoot, names);
      if (opts.json) return void io.out(`${JSON.stringify({ destinations: status }, null, 2)}\n`);
      if (names.length === 0) return void io.out("no destinations configured\n");
      io.out("destination\tpending\tin flight\tfailed\tdead\tdelivered\toldest pending\n");
      for (const [name, s] of Object.entries(status))
        io.out(
          `${name}\t${s.pending}\t${s.in_flight}\t${s.failed}\t${s.dead}\t${s.delivered}\t${age(s.oldestPendingSeconds)}\n`,
        );
    });
}
