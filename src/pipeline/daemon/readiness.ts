import { randomBytes } from "node:crypto";
import { rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { DaemonDeps } from "./deps.js";
import { describeError } from "../../core/errors.js";

/*
 * /readyz: ready means this daemon can do its work right now: the registry answers, the store takes
 * a write, and the ledger verified when the daemon started (a tampered ledger must not get
 * new entries appended silently). Each failing check gives one reason a person can act on.
 */

export interface StartupVerify {
  /** null while the start-up verification is still running. */
  findings: number | null;
  error?: string;
}

export async function readinessReasons(app: DaemonDeps, startup: StartupVerify): Promise<string[]> {
  const reasons: string[] = [];
  const registry = app.source.ping().then(
    () => null,
    (err: unknown) => `${app.source.kind}: ${describeError(err)}`,
  );
  const probe = join(app.storeDir, `.readyz-${randomBytes(6).toString("hex")}`);
  const store = writeFile(probe, "ok", { flag: "wx" })
    .then(() => rm(probe, { force: true }))
    .then(
      () => null,
      (err: unknown) =>
        `store: ${app.storeDir} is not writable (${(err as { code?: string }).code ?? describeError(err)})`,
    );
  for (const r of await Promise.all([registry, store])) if (r) reasons.push(r);
  if (startup.error) reasons.push(`ledger: start-up verification failed: ${startup.error}`);
  else if (startup.findings === null) reasons.push("ledger: start-up verification still running");
  else if (startup.findings > 0)
    reasons.push(`ledger: start-up verification found ${startup.findings} problem(s); run sealgate verify`);
  return reasons;
}
