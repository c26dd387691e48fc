import { readFile, stat } from "node:fs/promises";
import { join, resolve } from "node:path";
import type { Command } from "commander";
import { ledgerReaderAt } from "../../app/store.js";
import { describeClaims } from "../../bundle/claims.js";
import type { LiveLog } from "../../bundle/log-consistency.js";
import { verifyBundle } from "../../bundle/verify.js";
import { resolveSecret } from "../../core/secrets.js";
import { SealgateError } from "../../core/errors.js";
import { loadTrust, type Trust } from "../../crypto/pki/trust.js";
import { describeFinding } from "../../evidence/verify/findings.js";
import { verifyStore } from "../../evidence/verify/store.js";
import { verifyParts } from "../../app/store.js";
import type { CliIO } from "../io.js";
import { progressBar } from "../progress.js";

interface Options {
  store?: string;
  log?: string;
  logCa?: string;
  logToken?: string;
  logMaxMb?: string;
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
      "verify a store (every entry, link, checkpoint, signature and object) or an exported bundle (every claim)",
    )
    .argument("[bundle]", "an exported bundle (.zip) to verify offline")
    .option("--store <dir>", "the sealgate store directory (holds ledger/ and objects/)")
    .option(
      "--log <dir|url>",
      "bundle only: the live ledger the checkpoint must be consistent with: a store or ledger directory, or a daemon's URL (it serves /ledger/)",
    )
    .option(
      "--log-ca <file>",
      "PEM CA bundle for an https --log URL on a private CA (replaces the system roots)",
    )
    .option(
      "--log-token <ref>",
      "the daemon's access token for an --log URL, as a reference: '${SEALGATE_DAEMON_TOKEN}' or file:/path (never the token itself: it would show in ps)",
    )
    .option(
      "--log-max-mb <n>",
      "largest live log fetched from an --log URL, in MiB (default: 4 KiB per entry of the bundle's checkpoint, at least 16)",
    )
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
Exit codes: 0 everything verified (warnings, marked !, do not fail: an object no ledger entry
references, a record older than seal objects whose renderings the index does not name),
1 at least one failure (each is listed with its entry, checkpoint or object, or as a ✗ claim
with its findings), 2 usage error.

--json (store): {ok, entries, checkpoints, uncheckpointed, objects, bytes, legacyRecords,
findings: [{code, step, message, where}], warnings: [same shape], seconds}; ok is
findings.length === 0.

Examples:
  $ sealgate verify --store /var/lib/sealgate --ca org-root.pem
  $ sealgate verify credit-risk-3.zip --ca org-root.pem [--log /var/lib/sealgate]
  $ sealgate verify credit-risk-3.zip --ca org-root.pem --log https://sealgate.internal:9464`,
    )
    .action(async (bundle: string | undefined, opts: Options) => {
      if (!bundle === !opts.store)
        throw new SealgateError("USAGE", "verify takes either a bundle file or --store DIR (not both)");
      if (opts.log && !bundle)
        throw new SealgateError("USAGE", "--log applies to a bundle; --store checks a log itself");
      const trust = opts.ca
        ? await loadTrust({
            anchors: opts.ca,
            ...(opts.intermediates ? { intermediates: opts.intermediates } : {}),
            ...(opts.crl ? { crls: opts.crl } : {}),
          })
        : undefined;
      if (bundle) return verifyBundleCommand(io, setExit, bundle, trust, opts);
      const store = opts.store!;
      const bar = progressBar(opts.json ? { ...io, isTTY: false } : io, "verifying ledger");
      const started = Date.now();
      const dir = resolve(store);
      if (!(await stat(join(dir, "ledger", "entries.log")).catch(() => null)))
        throw new SealgateError("USAGE", `${dir} is not a sealgate store (no ledger/entries.log)`);
      const report = await verifyStore(await verifyParts(dir), {
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
      io.out(`sealgate verify ${resolve(store)}\n`);
      io.out(`  ${report.entries} ledger entries, ${report.checkpoints} signed checkpoints`);
      io.out(
        report.uncheckpointed ? `, ${report.uncheckpointed} entries not yet covered by a checkpoint\n` : "\n",
      );
      if (opts.objects)
        io.out(`  ${report.objects} objects re-hashed (${report.bytes} bytes), every reference followed\n`);
      if (report.legacyRecords)
        io.out(
          `  ${report.legacyRecords} record(s) predate seal objects (v1 entries): their JWS, CMS and PDF are found through index/sealed.jsonl\n`,
        );
      for (const f of report.findings) io.out(`  ✗ ${describeFinding(f)}\n`);
      for (const w of report.warnings) io.out(`  ! ${describeFinding(w)}\n`);
      io.out(
        ok
          ? `  ✓ every entry, link, checkpoint and object verified${report.warnings.length ? ` (${report.warnings.length} warning(s))` : ""}\nOK\n`
          : `FAILED: ${report.findings.length} finding(s)\n`,
      );
    });
}

async function liveLog(where: string, opts: Options, env: NodeJS.ProcessEnv): Promise<LiveLog> {
  if (/^https?:\/\//i.test(where)) return { url: where, ...(await urlOptions(opts, env)) };
  for (const [set, flag] of [
    [opts.logCa, "--log-ca"],
    [opts.logToken, "--log-token"],
    [opts.logMaxMb, "--log-max-mb"],
  ] as const)
    if (set) throw new SealgateError("USAGE", `${flag} applies to an http(s) --log URL only`);
  const ledger = await ledgerReaderAt(resolve(where));
  if (!ledger)
    throw new SealgateError(
      "USAGE",
      `--log ${where}: no ledger there (expected ledger/entries.log or entries.log, or an http(s) URL)`,
    );
  return { ledger, where: resolve(where) };
}

/** What an --log URL takes beyond the URL: a private CA, the daemon's token, a larger byte cap. */
async function urlOptions(opts: Options, env: NodeJS.ProcessEnv) {
  let ca: string | undefined;
  if (opts.logCa)
    ca = await readFile(resolve(opts.logCa), "utf8").catch((cause: unknown) => {
      throw new SealgateError("USAGE", `--log-ca ${opts.logCa}: cannot read it`, { cause });
    });
  const token = opts.logToken ? resolveSecret(opts.logToken, "--log-token", env) : undefined;
  const mb = opts.logMaxMb === undefined ? undefined : Number(opts.logMaxMb);
  if (mb !== undefined && !(Number.isInteger(mb) && mb > 0))
    throw new SealgateError("USAGE", `--log-max-mb ${opts.logMaxMb}: give a whole number of MiB, e.g. 256`);
  return {
    ...(ca ? { ca } : {}),
    ...(token ? { token } : {}),
    ...(mb ? { maxBytes: mb * 2 ** 20 } : {}),
  };
}

async function verifyBundleCommand(
  io: CliIO,
  setExit: (code: 0 | 1) => void,
  path: string,
  trust: Trust | undefined,
  opts: Options,
) {
  if (!trust)
    throw new SealgateError(
      "USAGE",
      "pass --ca with your organisation's root CA: it is the only thing trusted",
    );
  // The zip is read from disk as needed, never whole: a hostile one may be large.
  const info = await stat(resolve(path)).catch((cause: unknown) => {
    throw new SealgateError("USAGE", `cannot read bundle ${path}`, { cause });
  });
  if (info.isDirectory())
    throw new SealgateError(
      "USAGE",
      `${path} is a directory, not a bundle: to verify a store, run sealgate verify --store ${path} --ca <root.pem>`,
    );
  const log = opts.log ? await liveLog(opts.log, opts, io.env) : undefined;
  const report = await verifyBundle(resolve(path), trust, log ? { log } : {});
  setExit(report.ok ? 0 : 1);
  if (opts.json) return void io.out(`${JSON.stringify(report, null, 2)}\n`);
  io.out(`sealgate verify ${resolve(path)}\n  record ${report.event ?? "(unreadable)"}\n`);
  io.out(describeClaims(report.claims));
  const failed = report.claims.filter((c) => !c.ok).length;
  io.out(
    failed
      ? `FAILED: ${failed} of ${report.claims.length} claims did not verify\n`
      : `OK: all ${report.claims.length} claims verified\n`,
  );
}
