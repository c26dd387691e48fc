import { resolve } from "node:path";
import type { Command } from "commander";
import { SOURCES } from "../../../connectors/sources.js";
import { loadConfig } from "../../app/config/load.js";
import { readStore } from "../../app/store.js";
import { SealgateError } from "../../core/errors.js";
import { gate, type GateResult } from "../../governance/gate/gate.js";
import { gateDecisionEvent } from "../../governance/gate/decision-event.js";
import type { SealgateConfig } from "../../app/config/schema.js";
import type { Digest } from "../../core/digest.js";
import { SYSTEM_ACTOR } from "../../crypto/sign/event.js";
import { recordSystemEvent } from "../system-event.js";
import { SealIndex } from "../../evidence/store/seal-index.js";
import { describeFinding } from "../../evidence/verify/findings.js";
import { loadTrust } from "../../crypto/pki/trust.js";
import type { CliIO } from "../io.js";

interface Options {
  config: string;
  model: string;
  version: string;
  target?: string;
  fast?: boolean;
  /** Commander's --no-rehash: false when given. */
  rehash: boolean;
  json?: boolean;
  alias?: string;
}

async function gateFromConfig(opts: Options, io: CliIO) {
  // MLflow numbers versions 1, 2, 3...; anything else is a typo, not a version to deny.
  if (!/^[1-9][0-9]*$/.test(opts.version))
    throw new SealgateError("USAGE", `--version ${opts.version}: expected a model version number such as 3`);
  if (!opts.rehash && !opts.fast)
    throw new SealgateError(
      "USAGE",
      "--no-rehash applies to --fast only: without --fast the gate always re-hashes",
    );
  const config = await loadConfig(opts.config);
  if (!config.store || !config.trust)
    throw new SealgateError(
      "CONFIG_INVALID",
      `config ${opts.config}: the gate needs store.path and trust.anchors`,
    );
  const rel = (p: string) => resolve(opts.config, "..", p);
  const storeRoot = rel(config.store.path);
  const trust = await loadTrust({
    anchors: rel(config.trust.anchors),
    ...(config.trust.intermediates ? { intermediates: rel(config.trust.intermediates) } : {}),
    ...(config.trust.crls ? { crls: config.trust.crls.map(rel) } : {}),
  });
  const source = SOURCES.mlflow.create(config.mlflow, { env: io.env });
  const deps = { source, ...readStore(storeRoot), index: await SealIndex.open(storeRoot), trust };
  const result = await gate(deps, opts.model, opts.version, {
    ...(opts.target ? { target: opts.target } : {}),
    ...(opts.fast ? { fast: true, rehash: opts.rehash } : {}),
  });
  return { source, result, config };
}

/**
 * The promote event: the alias moved, by which gate decision. It names the gate-decision event,
 * so without that one in the ledger there is nothing to name and it is not recorded either.
 */
async function recordPromote(
  opts: Options,
  io: CliIO,
  config: SealgateConfig,
  result: GateResult,
  from: string | null,
  gateDecision: string | undefined,
): Promise<string> {
  if (!gateDecision || !result.record) return "promote not recorded: the gate decision is not in the ledger";
  const { line } = await recordSystemEvent({
    config,
    configPath: opts.config,
    io,
    event: {
      type: "sealgate.event/1",
      kind: "promote",
      model: opts.model,
      version: opts.version,
      cycle: result.cycle ?? 1,
      actor: SYSTEM_ACTOR,
      claimedTime: new Date().toISOString(),
      alias: opts.alias!,
      from,
      record: result.record as Digest,
      gateDecision: gateDecision as Digest,
    },
  });
  return line;
}

function report(io: CliIO, opts: Options, result: Awaited<ReturnType<typeof gate>>, extra: object = {}) {
  if (opts.json) return void io.out(`${JSON.stringify({ ...result, ...extra }, null, 2)}\n`);
  io.out(
    `${result.allowed ? "ALLOW" : "DENY"} ${opts.model} v${opts.version}${opts.target ? ` to ${opts.target}` : ""}\n`,
  );
  if (result.record) io.out(`  record ${result.record}\n`);
  if (result.content)
    io.out(
      `  bytes ${result.content.method === "fast" ? "checked by --fast (source, run, names and sizes; not re-hashed)" : "re-hashed in full"}\n`,
    );
  for (const why of result.content?.fallback ?? [])
    io.out(`  ↻ --fast fell back to a full re-hash: ${why}\n`);
  for (const f of result.findings) io.out(`  ✗ ${describeFinding(f)}\n`);
}

const FAST_OPTION =
  "judge the bytes without re-hashing when the version's source URI, run id and file names and sizes equal the sealed ones (see below)";
const NO_REHASH_OPTION =
  "with --fast: deny (FAST_CHECK_FAILED) instead of re-hashing when a fast check fails";
const FAST_HELP = `What --fast trusts:
  Without --fast the gate re-hashes every model file from MLflow and compares the root digest
  with the sealed content digest. With --fast it reads no model bytes. It allows the bytes only
  if all of these equal what was sealed: the model version's source URI, its run id, and the
  artifact listing (every file name and size) against the sealed manifest, whose per-file
  SHA-256 digests must hash to the sealed content digest. It trusts that a file whose name and
  size are unchanged, under an unchanged source URI and run id, has unchanged bytes: a
  same-size byte change inside such a file is NOT detected by --fast (only by a full re-hash).
  Any difference falls back to a full re-hash, and the decision's reasons say why
  (FAST_FALLBACK); with --no-rehash it denies with the reason (FAST_CHECK_FAILED) instead.
  Signatures, the ledger inclusion proof, approval and conditions are checked in full either way.`;

export function registerGate(program: Command, io: CliIO, setExit: (code: 0 | 1) => void): void {
  program
    .command("gate")
    .description("exit 0 only if a sealed, approved, unexpired record covers this version's current bytes")
    .requiredOption("--config <file>", "sealgate config (mlflow, store.path, trust)")
    .requiredOption("--model <name>", "registered model name")
    .requiredOption("--version <n>", "model version")
    .option("--target <env>", "deployment target, checked against the approval's target conditions")
    .option("--fast", FAST_OPTION)
    .option("--no-rehash", NO_REHASH_OPTION)
    .option("--json", "print the decision and every finding (code, step, message, where) as JSON")
    .addHelpText(
      "after",
      `\nFor CI/CD pipelines: exit 0 allow, 1 deny (with the reasons), 2 usage, 3 external failure.\n\n${FAST_HELP}\n\nExample:\n  $ sealgate gate --config sealgate.yaml --model credit-risk --version 3 --target prod-eu || exit 1`,
    )
    .action(async (opts: Options) => {
      const { source, result } = await gateFromConfig(opts, io);
      await source.close();
      setExit(result.allowed ? 0 : 1);
      report(io, opts, result);
    });

  program
    .command("promote")
    .description(
      "run the gate, then point an alias (e.g. production) at the version; refuses without a valid record",
    )
    .requiredOption("--config <file>", "sealgate config (mlflow, store.path, trust)")
    .requiredOption("--model <name>", "registered model name")
    .requiredOption("--version <n>", "model version")
    .requiredOption("--alias <alias>", "alias to set, e.g. production")
    .option("--target <env>", "deployment target, checked against the approval's target conditions")
    .option("--fast", FAST_OPTION)
    .option("--no-rehash", NO_REHASH_OPTION)
    .option("--json", "print the decision as JSON")
    .addHelpText(
      "after",
      `\nThe gate decision (allowed or not) and the alias move are appended to the ledger as events,\nsigned with sealing.key (when configured), the promotion naming the decision.\n\n${FAST_HELP}\n\nExample:\n  $ sealgate promote --config sealgate.yaml --model credit-risk --version 3 --alias production`,
    )
    .action(async (opts: Options) => {
      const { source, result, config } = await gateFromConfig(opts, io);
      const events: string[] = [];
      try {
        const decided = await recordSystemEvent({
          config,
          configPath: opts.config,
          io,
          event: gateDecisionEvent({
            model: opts.model,
            version: opts.version,
            target: opts.target ?? opts.alias!,
            result,
            decidedAt: new Date(),
          }),
        });
        events.push(decided.line);
        if (result.allowed) {
          const from = (await source.model(opts.model)).aliases[opts.alias!] ?? null;
          await source.setAlias(opts.model, opts.alias!, opts.version);
          events.push(await recordPromote(opts, io, config, result, from, decided.digest));
        }
      } finally {
        await source.close();
      }
      setExit(result.allowed ? 0 : 1);
      report(io, opts, result, { alias: result.allowed ? opts.alias : null, events });
      if (opts.json) return;
      if (result.allowed) io.out(`  alias ${opts.alias} -> v${opts.version}\n`);
      for (const line of events) io.out(`  ${line}\n`);
    });
}
