import { readdir } from "node:fs/promises";
import { resolve } from "node:path";
import type { Command } from "commander";
import { SealgateError } from "../../core/errors.js";
import { createDevPki } from "../../crypto/pki/dev-pki.js";
import { KEY_SPECS, type KeySpec } from "../../crypto/pki/keys.js";
import type { CliIO } from "../io.js";

export function registerPkiInit(parent: Command, io: CliIO): void {
  parent
    .command("init")
    .description(
      "create a development PKI: root and issuing CA, sealing, approver and TSA certificates, bad certificates",
    )
    .requiredOption("--out <dir>", "empty or new directory to write the PKI into")
    .option("--key-type <type>", `key type for every certificate: ${KEY_SPECS.join(", ")}`, "ec-p256")
    .option("--org <name>", "organisation name in every subject", "Sealgate Demo Org")
    .option("--json", "print the manifest (file paths, fingerprints) as JSON")
    .addHelpText(
      "after",
      `
For demos and tests only: CA keys are written beside the certificates. Production keys come
from your organisation's PKI; point sealgate at them in the config.

Example:
  $ sealgate pki init --out ./dev-pki
  $ openssl verify -CAfile dev-pki/trust/anchors.pem -untrusted dev-pki/trust/intermediates.pem dev-pki/sealing.pem`,
    )
    .action(async (opts: { out: string; keyType: string; org: string; json?: boolean }) => {
      if (!KEY_SPECS.includes(opts.keyType as KeySpec)) {
        throw new SealgateError("USAGE", `--key-type ${opts.keyType} is not one of ${KEY_SPECS.join(", ")}`);
      }
      const out = resolve(opts.out);
      const existing = await readdir(out).catch(() => []);
      if (existing.length > 0) {
        throw new SealgateError(
          "USAGE",
          `--out ${out} is not empty; choose a new directory (keys are never overwritten)`,
        );
      }
      const m = await createDevPki(out, { spec: opts.keyType as KeySpec, org: opts.org });
      if (opts.json) return void io.out(`${JSON.stringify(m, null, 2)}\n`);
      const rows = [
        ["trust anchor", m.trust.anchors],
        ["sealing key / cert / p12", `${m.sealing.key}  ${m.sealing.cert}  ${m.sealing.p12}`],
        ["TSA cert", m.tsa.cert],
        ...m.approvers.map((a) => [`approver ${a.name} <${a.email}>`, a.cert]),
        ["bad certificates", `${out}/bad/ (${Object.keys(m.bad).join(", ")})`],
        ["PKCS#12 passphrase", m.p12Passphrase],
      ];
      io.out(`development PKI (${m.spec}) written to ${out}\n`);
      for (const [k, v] of rows) io.out(`  ${k!.padEnd(40)} ${v}\n`);
    });
}
