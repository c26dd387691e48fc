import { resolve } from "node:path";
import type { Command } from "commander";
import { loadTrust } from "../../pki/trust.js";
import { describeFinding } from "../../verify/findings.js";
import { verifyStore } from "../../verify/store.js";
import type { CliIO } from "../io.js";
import { progressBar } from "../progress.js";

interface Options {
  store: string;
  ca?: string;
  intermediates?: string;
  crl?: string[];
  objects: boolean;
  json?: boolean;
}

export function registerVerify(program: Command, io: CliIO, setExit: (code: 0 | 1) => void): void {
  program
    .command("verify")
    .description(
      "recompute every entry digest, chain link, checkpoint root and signature, and every object digest",
    )
    .requiredOption("--store <dir>", "the sealgate store directory (holds ledger/ and objects/)")
    .option(
      "--ca <file>",
      "PEM file of the organisation's root CA(s): checkpoint signatures must chain to it",
    )
    .option("--intermediates <file>", "PEM file of intermediate CAs")
    .option("--crl <file...>", "PEM CRLs to check signer certificates against")
    .option("--no-objects", "skip re-hashing the stored objects (faster; chain and checkpoints only)")
    .option("--json", "print the report as JSON")
    .addHelpText(
      "after",
      `
Exit codes: 0 everything verified, 1 at least one failure (each is listed with its entry,
checkpoint or object), 2 usage error.

Example:
  $ sealgate verify --store /var/lib/sealgate --ca org-root.pem`,
    )
    .action(async (opts: Options) => {
      const trust = opts.ca
        ? await loadTrust({
            anchors: opts.ca,
            ...(opts.intermediates ? { intermediates: opts.intermediates } : {}),
            ...(opts.crl ? { crls: opts.crl } : {}),
          })
        : undefined;
      const bar = progressBar(opts.json ? { ...io, isTTY: false } : io, "verifying ledger");
      const started = Date.now();
      const report = await verifyStore(resolve(opts.store), {
        ...(trust ? { trust } : {}),
        objects: opts.objects,
        onProgress: (d, t) => bar.update(d, t),
      });
      bar.finish();
      const ok = report.findings.length === 0;
      setExit(ok ? 0 : 1);
      if (opts.json) {
        io.out(`${JSON.stringify({ ok, ...report, seconds: (Date.now() - started) / 1000 }, null, 2)}\n`);
        return;
      }
      io.out(`sealgate verify ${resolve(opts.store)}\n`);
      io.out(`  ${report.entries} ledger entries, ${report.checkpoints} signed checkpoints`);
      io.out(
        report.uncheckpointed ? `, ${report.uncheckpointed} entries not yet covered by a checkpoint\n` : "\n",
      );
      for (const f of report.findings) io.out(`  ✗ ${describeFinding(f)}\n`);
      io.out(
        ok
          ? "  ✓ every entry, link, checkpoint and object verified\nOK\n"
          : `FAILED: ${report.findings.length} finding(s)\n`,
      );
    });
}
