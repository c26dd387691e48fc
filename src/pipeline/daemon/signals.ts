import type { Logger } from "pino";
import type { DaemonHandle } from "./daemon.js";

const SIGNALS = { SIGINT: 2, SIGTERM: 15 } as const;

/**
 * First SIGTERM/SIGINT: stop scheduling, give the running step `graceSeconds` to finish,
 * close the app (ledger lock released) and resolve. Past the grace the step is abandoned:
 * the store, ledger and outbox are crash-safe and the next start resumes it. A second signal
 * exits at once, for the same reason.
 */
export function untilSignal(
  daemon: DaemonHandle,
  graceSeconds: number,
  log: Logger,
  exit: (code: number) => never = process.exit,
): Promise<void> {
  return new Promise((resolve) => {
    let received = false;
    const onSignal = (signal: keyof typeof SIGNALS) => {
      if (received) {
        log.warn({ signal }, "second signal: exiting now");
        exit(128 + SIGNALS[signal]);
      }
      received = true;
      log.info({ signal, graceSeconds }, "stopping: no new runs; waiting for the running step");
      let timer: NodeJS.Timeout | undefined;
      const grace = new Promise<"elapsed">((r) => {
        timer = setTimeout(() => r("elapsed"), graceSeconds * 1000);
      });
      const drained = daemon.drain().then(
        () => "drained" as const,
        (err: unknown) => (log.error({ err: String(err) }, "stopping failed"), "drained" as const),
      );
      void Promise.race([drained, grace]).then(async (how) => {
        clearTimeout(timer);
        if (how === "elapsed") {
          log.warn(
            { graceSeconds },
            "grace period over: abandoning the running step; the next start resumes it",
          );
          exit(0);
        }
        await daemon.app.close();
        log.info("stopped");
        for (const s of Object.keys(SIGNALS)) process.removeListener(s, onSignal);
        // Keep a late second signal from taking the default action while the process winds down.
        for (const s of Object.keys(SIGNALS)) process.on(s, () => {});
        resolve();
      });
    };
    for (const s of Object.keys(SIGNALS) as (keyof typeof SIGNALS)[]) process.on(s, onSignal);
  });
}
