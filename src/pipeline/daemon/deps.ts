import type { OpenReport } from "../../evidence/ledger/file-ledger.js";
import type { SyncDeps } from "../sync/sync.js";
import type { DaemonConfig } from "./config.js";

/**
 * What the daemon runs on: a sync pass's parts, its own config section, and how to close them.
 * Structural, so the pipeline never imports the app that builds it (cli/commands/daemon.ts does).
 */
export interface DaemonDeps extends SyncDeps {
  /** What opening the ledger found a crash had left and set aside (logged at start-up). */
  ledgerRecovery: OpenReport;
  config: SyncDeps["config"] & { daemon: DaemonConfig; events: { maxClockSkew: number } };
  close(): Promise<void>;
}
