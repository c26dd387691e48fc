import { resolve } from "node:path";
import type { Command } from "commander";
import { SOURCES } from "../../../connectors/sources.js";
import { loadConfig } from "../../app/config/load.js";
import { readStore } from "../../app/store.js";
import { SealgateError } from "../../core/errors.js";
import { gate } from "../../governance/gate/gate.js";
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
  json?: boolean;
  alias?: string;
}

async function gateFromConfig(opts: Options, io: CliIO) {
  // MLflow numbers versions 1, 2, 3...; anything else is a typo, not a version to deny.
  if (!/^[1-9][0-9]*$/.test(opts.version))
    throw new SealgateError("USAGE", `--version ${opts.version}: expected a model version number such as 3`);
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
    ...(opts.fast ? { fast: true } : {}),
  });
  return { source, result };
}

function report(io: CliIO, opts: Options, result: Awaited<ReturnType<typeof gate>>, extra: object = {}) {
  if (opts.json) return void io.out(`${JSON.stringify({ ...result, ...extra }, null, 2)}\n`);
  io.out(
    `${result.allowed ? "ALLOW" : "DENY"} ${opts.model} v${opts.version}${opts.target ? ` to ${opts.target}` : ""}\n`,
  );
  if (result.record) io.out(`  record ${result.record}\n`);
  for (const f of result.findings) io.out(`  ✗ ${describeFinding(f)}\n`);
}

export function registerGate(program: Command, io: CliIO, setExit: (code: 0 | 1) => void): void {
  program
    .command("gate")
    .description("exit 0 only if a sealed, approved, unexpired record covers this version's current bytes")
    .requiredOption("--config <file>", "sealgate config (mlflow, store.path, trust)")
    .requiredOption("--model <name>", "registered model name")
    .requiredOption("--version <n>", "model version")
    .option("--target <env>", "deployment target, checked against the approval's target conditions")
    .option(
      "--fast",
      "trust the sealed manifest: re-check file sizes and the manifest digest instead of re-hashing",
    )
    .option("--json", "print the decision and every finding (code, step, message, where) as JSON")
    .addHelpText(
      "after",
      "\nFor CI/CD pipelines: exit 0 allow, 1 deny (with the reasons), 2 usage, 3 external failure.\n\nExample:\n  $ sealgate gate --config sealgate.yaml --model credit-risk --version 3 --target prod-eu || exit 1",
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
      "run the gate, then point an alias (e.g. production) at the version; refuses without a valid event",
    )
    .requiredOption("--config <file>", "sealgate config (mlflow, store.path, trust)")
    .requiredOption("--model <name>", "registered model name")
    .requiredOption("--version <n>", "model version")
    .requiredOption("--alias <alias>", "alias to set, e.g. production")
    .option("--target <env>", "deployment target, checked against the approval's target conditions")
    .option("--json", "print the decision as JSON")
    .addHelpText(
      "after",
      "\nExample:\n  $ sealgate promote --config sealgate.yaml --model credit-risk --version 3 --alias production",
    )
    .action(async (opts: Options) => {
      const { source, result } = await gateFromConfig(opts, io);
      try {
        if (result.allowed) await source.setAlias(opts.model, opts.alias!, opts.version);
      } finally {
        await source.close();
      }
      setExit(result.allowed ? 0 : 1);
      report(io, opts, result, { alias: result.allowed ? opts.alias : null });
      if (result.allowed && !opts.json) io.out(`  alias ${opts.alias} -> v${opts.version}\n`);
    });
}
