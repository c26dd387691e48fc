import { resolve } from "node:path";
import type { Command } from "commander";
import { SOURCES } from "../../connectors/sources.js";
import type { SealgateConfig } from "../app/config/schema.js";
import { SealgateError } from "../core/errors.js";
import { APPROVAL_TAG_PREFIX, writeApprovalTag } from "../governance/approvals/approval-tags.js";
import { TAGS } from "../governance/cycle/tags.js";
import { loadTrust, type Trust } from "../crypto/pki/trust.js";
import { validatePath } from "../crypto/pki/validate.js";
import { loadSigner } from "../crypto/sign/load.js";
import type { Signer } from "../crypto/sign/signer.js";
import { openEvidenceStore, readStore } from "../app/store.js";
import { isDecision } from "../governance/events/append.js";
import { eventsOf } from "../governance/events/read.js";
import type { EvidenceStore } from "../evidence/store/evidence-store.js";
import type { SourceVersion } from "../source/registry-source.js";
import type { CliIO } from "./io.js";
import { type RecordedEvent, recordEvent } from "./event-append.js";
import { signEvent } from "../crypto/sign/event.js";
import { identityEmail } from "../crypto/sign/approval.js";
import type { Digest } from "../core/digest.js";
import type { WorkflowEvent } from "../record/event.js";
import { readReviewPackage } from "../governance/approvals/status.js";

/*
 * A reviewer's own key, for `approve` and `comment`: the options, loading, an early check, and
 * the one path both take to sign the version's review package, append the statement's event to
 * the ledger (signed with the same certificate), and publish the statement as an MLflow tag.
 */

export interface SignerOptions {
  key?: string;
  cert?: string;
  p12?: string;
  passphrase?: string;
}

export function addSignerOptions(cmd: Command): Command {
  return cmd
    .option("--key <file>", "your private key (PEM)")
    .option("--cert <file>", "your certificate chain (PEM)")
    .option("--p12 <file>", "your key and certificate as PKCS#12, instead of --key/--cert")
    .option(
      "--passphrase <ref>",
      "passphrase reference: ${ENV_VAR} or file:/path (never the passphrase itself)",
    );
}

export function configTrust(config: SealgateConfig, configPath: string): Promise<Trust> {
  if (!config.trust)
    throw new SealgateError("CONFIG_INVALID", `config ${configPath}: trust.anchors is required here`);
  const rel = (p: string) => resolve(configPath, "..", p);
  return loadTrust({
    anchors: rel(config.trust.anchors),
    ...(config.trust.intermediates ? { intermediates: rel(config.trust.intermediates) } : {}),
    ...(config.trust.crls ? { crls: config.trust.crls.map(rel) } : {}),
  });
}

/** Load the reviewer's signer and refuse an expired, revoked or untrusted certificate up front. */
export async function personalSigner(opts: SignerOptions, trust: Trust, io: CliIO): Promise<Signer> {
  const signer = await loadPersonalSigner(opts, io);
  await checkSignerNow(signer, trust);
  return signer;
}

/** The reviewer's certificate must be valid, unrevoked and trusted now, for the approval purpose. */
export async function checkSignerNow(signer: Signer, trust: Trust): Promise<void> {
  await validatePath(signer.chain[0]!, signer.chain.slice(1), trust, { at: new Date(), purpose: "approval" });
}

/** The reviewer's key and certificate from --p12 or --key/--cert, not yet checked. */
export async function loadPersonalSigner(opts: SignerOptions, io: CliIO): Promise<Signer> {
  let signer: Signer;
  if (opts.p12) {
    signer = await loadSigner(
      { type: "pkcs12", file: opts.p12, passphrase: opts.passphrase ?? "" },
      "--p12",
      io.env,
    );
  } else if (opts.key && opts.cert) {
    signer = await loadSigner(
      {
        type: "pem",
        key: opts.key,
        cert: opts.cert,
        ...(opts.passphrase ? { passphrase: opts.passphrase } : {}),
      },
      "--key",
      io.env,
    );
  } else {
    throw new SealgateError("USAGE", "give your key: --p12 FILE --passphrase REF, or --key FILE --cert FILE");
  }
  return signer;
}

export interface PackageSignature<V> {
  packageDigest: string;
  jws: string;
  verified: V;
  tag: { key: string; value: string; mirror?: string };
  /** The statement's ledger event, when the command makes one. */
  event?: { digest: string; recorded: RecordedEvent };
}

/**
 * A decision that cannot reach the ledger is carried by its tag alone, which counts only in a
 * cycle with no ledger decisions: in a cycle that has them it would never count, so it is refused.
 */
async function refuseTagOnly(
  o: { config: SealgateConfig; configPath: string; model: string; version: string },
  store: EvidenceStore,
  event: WorkflowEvent,
  reason: string,
): Promise<void> {
  const { ledger } = readStore(resolve(o.configPath, "..", o.config.store!.path));
  const { events } = await eventsOf(ledger, store, {
    model: o.model,
    version: o.version,
    cycle: event.cycle,
  });
  if (events.some((e) => isDecision(e.event)))
    throw new SealgateError(
      "LEDGER_LOCKED",
      `refused, nothing recorded: this cycle's decisions are in the ledger, and yours cannot be appended (${reason}); start the daemon (daemon.listen) or retry when the ledger is free`,
    );
}

/** How a command's event was recorded, for its output. */
export function describeRecorded(r: { digest: string; recorded: RecordedEvent }): string {
  const x = r.recorded;
  return x.via === "none"
    ? `not in the ledger: ${x.reason}; the MLflow tag alone carries it, counted only in a cycle with no ledger events`
    : `appended to the ledger as entry #${x.seq} at ${x.time}${x.via === "daemon" ? " (through the daemon)" : ""}: event ${r.digest}`;
}

/** What a command's statement becomes as a ledger event: everything but the common members. */
export type EventOf = (o: {
  packageDigest: Digest;
  statement: Digest;
}) =>
  | Omit<Extract<WorkflowEvent, { kind: "approval" | "rejection" | "request-changes" }>, CommonMember>
  | Omit<Extract<WorkflowEvent, { kind: "comment" | "clarification-request" }>, CommonMember>;
type CommonMember = "type" | "model" | "version" | "cycle" | "actor" | "claimedTime";

/**
 * The signed statement's event, appended at once (event-append.ts): the statement stored as an
 * object and named by the event, the event signed with the same personal certificate. A refusal
 * (skew, signature) throws before any tag is written.
 */
async function appendStatementEvent(
  o: { config: SealgateConfig; configPath: string; io: CliIO; model: string; version: string },
  e: { signer: Signer; trust: Trust; of: EventOf; actor?: () => string | undefined },
  store: EvidenceStore,
  packageDigest: string,
  jws: string,
): Promise<{ digest: string; recorded: RecordedEvent }> {
  const statement = await store.put(Buffer.from(jws, "utf8"));
  const pkg = await readReviewPackage(store, packageDigest, o.model, o.version);
  const event = {
    type: "sealgate.event/1",
    model: o.model,
    version: o.version,
    cycle: pkg.cycle.number,
    actor: e.actor?.() ?? identityEmail(e.signer.chain[0]!) ?? e.signer.chain[0]!.subject,
    claimedTime: new Date().toISOString(),
    ...e.of({ packageDigest: packageDigest as Digest, statement }),
  } as WorkflowEvent;
  const signed = await signEvent(event, e.signer);
  const recorded = await recordEvent({
    config: o.config,
    configPath: o.configPath,
    env: o.io.env,
    store,
    trust: e.trust,
    jws: signed.jws,
  });
  if (recorded.via === "none" && isDecision(event)) await refuseTagOnly(o, store, event, recorded.reason);
  return { digest: signed.digest, recorded };
}

/**
 * Read the review package digest `sealgate review` recorded on the version (refusing a version
 * with none), sign over it, verify the result as the sealer will (so nothing that would not
 * verify is published), and write it as an MLflow tag, by reference when it is too long.
 */
export async function signPackage<V>(o: {
  config: SealgateConfig;
  configPath: string;
  io: CliIO;
  model: string;
  version: string;
  sign: (packageDigest: string) => Promise<string>;
  verify: (jws: string) => Promise<V>;
  /** Before signing: may refuse (approve's checks that need the version and the store). */
  before?: (version: SourceVersion, store: EvidenceStore) => Promise<void>;
  /** After verifying, before anything is written: may refuse the signed statement. */
  check?: (verified: V) => void | Promise<void>;
  tagPrefix?: string;
  /** Append the statement's event to the ledger before any tag is written. */
  event?: { signer: Signer; trust: Trust; of: EventOf; actor?: () => string | undefined };
}): Promise<PackageSignature<V>> {
  if (!o.config.store)
    throw new SealgateError("CONFIG_INVALID", `config ${o.configPath}: store.path is required here`);
  const store = await openEvidenceStore(resolve(o.configPath, "..", o.config.store.path));
  const source = SOURCES.mlflow.create(o.config.mlflow, { env: o.io.env });
  try {
    const version = await source.version(o.model, o.version);
    const packageDigest = version.tags[TAGS.package];
    if (!packageDigest)
      throw new SealgateError(
        "GOVERNANCE_INCOMPLETE",
        `${o.model} v${o.version} has no review package yet: run sealgate review first`,
      );
    await o.before?.(version, store);
    const jws = await o.sign(packageDigest);
    const verified = await o.verify(jws);
    await o.check?.(verified);
    const event = o.event ? await appendStatementEvent(o, o.event, store, packageDigest, jws) : undefined;
    // The tag mirrors the event (its digest beside the statement) once it is in the ledger.
    const tag = await writeApprovalTag(
      source,
      store,
      o.model,
      o.version,
      jws,
      o.config.approvals.tagValueLimit,
      o.tagPrefix ?? APPROVAL_TAG_PREFIX,
      event && event.recorded.via !== "none" ? event.digest : undefined,
    );
    return { packageDigest, jws, verified, tag, ...(event ? { event } : {}) };
  } finally {
    await source.close();
  }
}
