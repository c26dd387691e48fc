import { resolve } from "node:path";
import type { SealgateConfig } from "../app/config/schema.js";
import { openEvidenceStore } from "../app/store.js";
import { describeError } from "../core/errors.js";
import { fingerprint } from "../crypto/pki/x509.js";
import { signEvent } from "../crypto/sign/event.js";
import { loadSigner } from "../crypto/sign/load.js";
import type { EvidenceStore } from "../evidence/store/evidence-store.js";
import type { WorkflowEvent } from "../record/event.js";
import { recordEvent } from "./event-append.js";
import type { CliIO } from "./io.js";
import { configTrust, describeRecorded } from "./personal-signer.js";

/*
 * An event sealgate itself records from a command (review-opened, gate-decision, promote):
 * signed with the sealing key, appended at once (directly, or through the daemon that holds the
 * ledger). Without a usable sealing key the command's own work stands, and the line it prints
 * says the event was not recorded and why.
 */

export interface SystemEventResult {
  /** The event object's digest when it reached the ledger (directly or through the daemon). */
  digest?: string;
  /** One line for the command's output: where the event went, or why it did not. */
  line: string;
}

export async function recordSystemEvent(o: {
  config: SealgateConfig;
  configPath: string;
  io: CliIO;
  event: WorkflowEvent;
  store?: EvidenceStore;
}): Promise<SystemEventResult> {
  const { config, configPath, event } = o;
  const what = event.kind;
  if (!config.sealing || !config.trust || !config.store)
    return { line: `${what} not recorded: no sealing.key, trust and store configured` };
  const rel = (p: string) => resolve(configPath, "..", p);
  const key = config.sealing.key;
  let signer;
  try {
    signer = await loadSigner(
      key.type === "pem"
        ? { ...key, key: rel(key.key), cert: rel(key.cert) }
        : { ...key, file: rel(key.file) },
      "sealing.key",
      o.io.env,
    );
  } catch (err) {
    return { line: `${what} not recorded: the sealing key cannot be used here (${describeError(err)})` };
  }
  const signed = await signEvent(event, signer);
  const recorded = await recordEvent({
    config,
    configPath,
    env: o.io.env,
    store: o.store ?? (await openEvidenceStore(rel(config.store.path))),
    trust: await configTrust(config, configPath),
    jws: signed.jws,
    sealing: [await fingerprint(signer.chain[0]!)],
  });
  return {
    ...(recorded.via === "none" ? {} : { digest: signed.digest }),
    line: `${what} ${describeRecorded({ digest: signed.digest, recorded })}`,
  };
}
