import { resolve } from "node:path";
import type { Logger } from "pino";
import { CONNECTORS } from "../../connectors/index.js";
import { SOURCES } from "../../connectors/sources.js";
import { loadDestinations } from "./config/destinations.js";
import { loadConfig } from "./config/load.js";
import type { SealgateConfig } from "./config/schema.js";
import type { DeliveryTarget } from "../delivery/engine/engine.js";
import { SealgateError } from "../core/errors.js";
import { SealIndex } from "../evidence/store/seal-index.js";
import type { SealerDeps } from "../governance/seal/sealer.js";
import type { OpenReport } from "../evidence/ledger/file-ledger.js";
import { createAppLogger } from "./logger.js";
import { loadTrust } from "../crypto/pki/trust.js";
import { type LoadedPolicy, loadPolicy } from "../policy/schema.js";
import { loadSigner } from "../crypto/sign/load.js";
import { withTimestamper } from "../crypto/sign/signer.js";
import { httpTimestamper } from "../crypto/sign/timestamp.js";
import { openEvidenceStore, openLedger } from "./store.js";

/*
 * Everything one config file opens, built in one place for `sync`, the daemon, the demo and
 * tests: the registry source, the evidence store and ledger (locked: one writer), the policy,
 * the trust anchors, the sealing key (time-stamping through the configured TSA, if any) and the
 * delivery targets. Paths resolve against the
 * config file's folder.
 */

export interface App extends SealerDeps {
  configPath: string;
  /** The store's directory: FsObjectStore's objects, the FileLedger, and the index and outbox files. */
  storeDir: string;
  /** What opening the ledger set aside after an earlier crash. */
  ledgerRecovery: OpenReport;
  config: SealgateConfig;
  logger: Logger;
  policy: LoadedPolicy;
  targets: DeliveryTarget[];
  close(): Promise<void>;
}

export interface OpenOptions {
  env?: NodeJS.ProcessEnv;
  logger?: Logger;
  /** How long to wait for another writer's ledger lock (default: fail at once). */
  lockWaitMs?: number;
}

const need = <T>(value: T | undefined, key: string, configPath: string): T => {
  if (value === undefined)
    throw new SealgateError("CONFIG_INVALID", `config ${configPath}: ${key} is required for this command`);
  return value;
};

export async function openApp(configPath: string, o: OpenOptions = {}): Promise<App> {
  const env = o.env ?? process.env;
  const config = await loadConfig(configPath);
  const rel = (p: string) => resolve(configPath, "..", p);
  const logger = o.logger ?? createAppLogger();
  const trustCfg = need(config.trust, "trust.anchors", configPath);
  const key = need(config.sealing, "sealing.key", configPath).key;
  const keySigner = await loadSigner(
    key.type === "pem" ? { ...key, key: rel(key.key), cert: rel(key.cert) } : { ...key, file: rel(key.file) },
    "sealing.key",
    env,
  );
  const timestamper =
    config.tsa &&
    httpTimestamper(config.tsa, {
      trust: await loadTrust({ anchors: rel(config.tsa.caFile) }),
      warn: (m) => logger.warn(m),
    });
  const signer = timestamper ? withTimestamper(keySigner, timestamper) : keySigner;
  const trust = await loadTrust({
    anchors: rel(trustCfg.anchors),
    ...(trustCfg.intermediates ? { intermediates: rel(trustCfg.intermediates) } : {}),
    ...(trustCfg.crls ? { crls: trustCfg.crls.map(rel) } : {}),
  });
  const policy = await loadPolicy(rel(need(config.policy, "policy", configPath)));
  const storeRoot = rel(need(config.store, "store.path", configPath).path);
  const targets = await loadDestinations(config.destinations ?? {}, {
    configPath,
    connectors: CONNECTORS,
    logger,
  });
  const store = await openEvidenceStore(storeRoot);
  const source = SOURCES.mlflow.create(config.mlflow, { env, logger });
  const ledger = await openLedger(storeRoot, { waitMs: o.lockWaitMs ?? 0 });
  const ledgerRecovery = ledger.report;
  const index = await SealIndex.open(storeRoot);
  return {
    configPath,
    config,
    logger,
    source,
    storeDir: storeRoot,
    store,
    ledger,
    ledgerRecovery,
    index,
    policy,
    trust,
    signer,
    targets,
    async close() {
      await Promise.allSettled(targets.map((t) => t.destination.close()));
      await ledger.close();
      await source.close();
      await timestamper?.close();
    },
  };
}
