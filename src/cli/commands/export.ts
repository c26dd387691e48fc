import { writeFile } from "node:fs/promises";
import { resolve } from "node:path";
import type { Command } from "commander";
import { loadConfig } from "../../app/config/load.js";
import { readStore } from "../../app/store.js";
import { exportBundle, type Selector } from "../../bundle/export.js";
import { SealgateError } from "../../core/errors.js";
import { isDigest } from "../../core/digest.js";
import { SealIndex } from "../../evidence/store/seal-index.js";
import type { CliIO } from "../io.js";

interface Options {
  model?: string;
  version?: string;
  event?: string;
  out: string;
  store?: string;
  config?: string;
}

async function storeRoot(opts: Options): Promise<string> {
  if (opts.store) return resolve(opts.store);
  if (!opts.config) throw new SealgateError("USAGE", "pass --store DIR or --config FILE (with store.path)");
  const config = await loadConfig(opts.config);
  if (!config.store)
    throw new SealgateError("CONFIG_INVALID", `config ${opts.config}: store.path is not set`);
  return resolve(opts.config, "..", config.store.path);
}

function selector(opts: Options): Selector {
  if (opts.event && !opts.model && !opts.version) {
    if (!isDigest(opts.event))
      throw new SealgateError("USAGE", `--event ${opts.event}: expected a record digest sha256:<64 hex>`);
    return { event: opts.event };
  }
  if (opts.model && opts.version && !opts.event) return { model: opts.model, version: opts.version };
  throw new SealgateError("USAGE", "name the event with either --model NAME --version N or --event DIGEST");
}

export function registerExport(program: Command, io: CliIO): void {
  program
    .command("export")
    .description("export a sealed event as a signed evidence bundle an auditor verifies offline")
    .option("--model <name>", "registered model name (with --version): its newest sealed record")
    .option("--version <n>", "model version")
    .option("--event <digest>", "the sealed record's digest (sha256:...)")
    .requiredOption("--out <file.zip>", "where to write the bundle")
    .option("--store <dir>", "the sealgate store directory")
    .option("--config <file>", "sealgate config (store.path is used when --store is not given)")
    .addHelpText(
      "after",
      `
The bundle holds the record, its JWS, CMS and signed PDF, every object it names, every earlier
cycle, inclusion proofs to the latest signed checkpoint, a SHA-256 manifest and VERIFY.md.
The same event always exports to identical bytes.

Example:
  $ sealgate export --store /var/lib/sealgate --model credit-risk --version 3 --out credit-risk-3.zip
  $ sealgate verify credit-risk-3.zip --ca org-root.pem`,
    )
    .action(async (opts: Options) => {
      const which = selector(opts);
      const root = await storeRoot(opts);
      const zip = await exportBundle({ ...readStore(root), index: await SealIndex.open(root) }, which);
      await writeFile(resolve(opts.out), zip);
      io.out(`wrote ${resolve(opts.out)} (${zip.length} bytes)\n`);
    });
}
