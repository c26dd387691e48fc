import { copyFile, mkdir, readFile, stat, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import type { Command } from "commander";
import { parse as parseYaml } from "yaml";
import { parseConfig } from "../../app/config/load.js";
import { PACKAGE_ROOT } from "../../core/util/package-root.js";
import { SealgateError } from "../../core/errors.js";
import type { CliIO } from "../io.js";

/*
 * `sealgate init`: a starter config (the fully commented example, pointed at this directory)
 * and a copy of the example policy. Never overwrites: a config is an admin's work.
 */

interface Options {
  dir: string;
  trackingUri: string;
  pki?: string;
}

const exists = (p: string) =>
  readFile(p).then(
    () => true,
    () => false,
  );

/** The files init points the config at, as `sealgate pki init` lays them out. */
const PKI_FILES = ["trust/anchors.pem", "trust/intermediates.pem", "sealing.key", "sealing.pem"];

/** A config pointing at a PKI that is not there would fail its first check: refuse it now. */
async function checkPki(pki: string): Promise<void> {
  const found = await stat(pki).catch(() => null);
  const fix = `run \`sealgate pki init --out ${pki}\` first, then \`sealgate init --pki ${pki}\``;
  if (!found) throw new SealgateError("USAGE", `--pki ${pki} does not exist; ${fix}`);
  if (!found.isDirectory()) throw new SealgateError("USAGE", `--pki ${pki} is not a directory; ${fix}`);
  const missing = [];
  for (const f of PKI_FILES) if (!(await exists(join(pki, f)))) missing.push(f);
  if (missing.length)
    throw new SealgateError(
      "USAGE",
      `--pki ${pki} lacks ${missing.join(", ")}: point it at a directory made by \`sealgate pki init --out <dir>\``,
    );
}

export function registerInit(program: Command, io: CliIO): void {
  program
    .command("init")
    .description("write a starter sealgate.yaml and policy.yaml (fully commented) into a directory")
    .option("--dir <dir>", "where to write them", ".")
    .option("--tracking-uri <url>", "your MLflow tracking server", "http://127.0.0.1:5000")
    .option("--pki <dir>", "a directory made by `sealgate pki init`: use its trust anchors and sealing key")
    .addHelpText(
      "after",
      `
Then edit the files, and check them with 'sealgate config check --config sealgate.yaml --remote'.

Example:
  $ sealgate pki init --out ./dev-pki && sealgate init --pki ./dev-pki`,
    )
    .action(async (opts: Options) => {
      const dir = resolve(opts.dir);
      const configPath = join(dir, "sealgate.yaml");
      const policyPath = join(dir, "policy.yaml");
      for (const p of [configPath, policyPath])
        if (await exists(p))
          throw new SealgateError("USAGE", `${p} exists; sealgate init never overwrites a config`);
      let text = await readFile(join(PACKAGE_ROOT, "config/sealgate.example.yaml"), "utf8");
      text = text
        .replace(/trackingUri: .*/, `trackingUri: ${opts.trackingUri}`)
        .replace(/^ {2}path: \/var\/lib\/sealgate$/m, "  path: ./sealgate-store")
        .replace(/^policy: .*$/m, "policy: policy.yaml");
      if (opts.pki) {
        const pki = resolve(opts.pki);
        await checkPki(pki);
        text = text
          .replace(/anchors: \/etc\/sealgate\/org-root.pem/, `anchors: ${pki}/trust/anchors.pem`)
          .replace(
            /# intermediates: \/etc\/sealgate\/org-intermediates.pem/,
            `intermediates: ${pki}/trust/intermediates.pem`,
          )
          .replace(
            /key: \{ type: pem, key: \/etc\/sealgate\/sealing.key, cert: \/etc\/sealgate\/sealing.pem \}/,
            `key: { type: pem, key: ${pki}/sealing.key, cert: ${pki}/sealing.pem }`,
          );
      }
      parseConfig(parseYaml(text), configPath); // what init writes must pass config check
      await mkdir(dir, { recursive: true });
      await writeFile(configPath, text, { flag: "wx" });
      await copyFile(join(PACKAGE_ROOT, "config/policy.example.yaml"), policyPath);
      io.out(
        `wrote ${configPath}\nwrote ${policyPath}\nnext: sealgate config check --config ${configPath}\n`,
      );
    });
}
