import { readdir } from "node:fs/promises";
import { resolve } from "node:path";
import type { Command } from "commander";
import { loadConfig } from "../../app/config/load.js";
import { readStore } from "../../app/store.js";
import { SealgateError } from "../../core/errors.js";
import { SealIndex } from "../../evidence/store/seal-index.js";
import { inspectStorePath } from "../../evidence/store/store-path.js";
import { outboxRows, outboxStatus } from "../../delivery/outbox/report.js";
import { retryDeliveries } from "../../delivery/outbox/retry.js";
import { DELIVERY_STATES, type DeliveryState } from "../../delivery/outbox/state.js";
import type { CliIO } from "../io.js";

/*
 * `sealgate outbox list|retry` and `sealgate status`: what the outbox holds per destination.
 * A store path that is missing, a file, or some other directory is a config error, never an
 * empty store that looks healthy.
 */

const storeError = (configPath: string, storeRoot: string, problem: string) =>
  new SealgateError("CONFIG_INVALID", `config ${configPath}: store.path ${storeRoot} ${problem}`);

/** Refuse a store path that does not hold a sealgate store (an empty directory is a new one). */
async function checkStore(configPath: string, storeRoot: string): Promise<void> {
  const { exists, problem } = await inspectStorePath(storeRoot);
  if (problem) throw storeError(configPath, storeRoot, problem);
  if (!exists)
    throw storeError(configPath, storeRoot, "does not exist; fix store.path, or run `sealgate sync` once");
  const names = await readdir(storeRoot);
  if (names.length > 0 && !names.includes("ledger") && !names.includes("objects"))
    throw storeError(
      configPath,
      storeRoot,
      "is not a sealgate store (no ledger/ or objects/ in it); fix store.path",
    );
}

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
  const storeRoot = resolve(configPath, "..", config.store.path);
  await checkStore(configPath, storeRoot);
  return { storeRoot, names: only ? [only] : names, ...readStore(storeRoot) };
}

const age = (s: number | null) =>
  s === null ? "—" : s < 120 ? `${s}s` : s < 7200 ? `${Math.round(s / 60)}m` : `${Math.round(s / 3600)}h`;

/** Outbox rows with the model, version and decision each record sealed, from the store's seal index. */
async function describedRows(s: Awaited<ReturnType<typeof scope>>, state?: string) {
  const index = await SealIndex.open(s.storeRoot);
  const sealed = new Map(index.entries().map((e) => [e.record, e]));
  const rows = (await outboxRows(s.storeRoot, s.ledger, s.names)).filter((r) => !state || r.state === state);
  return rows.map((r) => {
    const e = sealed.get(r.record);
    return { ...r, model: e?.model ?? null, version: e?.version ?? null, decision: e?.decision ?? null };
  });
}

const LIST_COLUMNS = ["destination", "record", "model", "version", "decision", "state", "detail"];

function listLine(r: Awaited<ReturnType<typeof describedRows>>[number]): string {
  const detail = [
    r.attempts ? `attempts ${r.attempts}` : "",
    r.remote ? `remote ${r.remote.id}` : "",
    r.lastError ? `error: ${r.lastError}` : "",
  ].filter(Boolean);
  const cells = [r.destination, r.record, r.model ?? "—", r.version ?? "—", r.decision ?? "—", r.state];
  return [...cells, detail.join("; ")].join("\t");
}

export function registerOutbox(program: Command, io: CliIO): void {
  const outbox = program
    .command("outbox")
    .description("delivery state of sealed records per GRC destination")
    .addHelpText("after", "\nExample:\n  $ sealgate outbox list --config sealgate.yaml --state dead")
    .exitOverride()
    .configureOutput({ writeOut: io.out, writeErr: io.err });

  outbox
    .command("list")
    .description(
      "one line per (record, destination): model, version, decision, state, attempts, remote id, last error",
    )
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
      const rows = await describedRows(await scope(opts.config, opts.destination), opts.state);
      if (opts.json) return void io.out(`${JSON.stringify(rows, null, 2)}\n`);
      if (rows.length) io.out(`${LIST_COLUMNS.join("\t")}\n`);
      for (const r of rows) io.out(`${listLine(r)}\n`);
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
      const store = await scope(opts.config);
      const { names } = store;
      const status = await outboxStatus(store.storeRoot, store, names);
      if (opts.json) return void io.out(`${JSON.stringify({ destinations: status }, null, 2)}\n`);
      if (names.length === 0) return void io.out("no destinations configured\n");
      io.out("destination\tpending\tin flight\tfailed\tdead\tdelivered\toldest pending\n");
      for (const [name, s] of Object.entries(status))
        io.out(
          `${name}\t${s.pending}\t${s.in_flight}\t${s.failed}\t${s.dead}\t${s.delivered}\t${age(s.oldestPendingSeconds)}\n`,
        );
    });
}
