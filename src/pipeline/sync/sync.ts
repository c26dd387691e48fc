import { join } from "node:path";
import PQueue from "p-queue";
import type { Logger } from "pino";
import { type DeliveryTarget, type DestinationResult, pushOutbox } from "../../delivery/engine/engine.js";
import { describeError } from "../../core/errors.js";
import { type SealerDeps, type SealOutcome, sealVersion } from "../../governance/seal/sealer.js";
import { TAGS } from "../../governance/cycle/tags.js";
import { describeWait, versionStatus } from "../../governance/approvals/status.js";

/*
 * One evidence sync pass, as `sealgate sync` and the daemon run it: reconcile the registry against
 * the last seen state, seal every changed version whose review cycle completed (and re-check
 * sealed approvals for expiry), several at once, sign a checkpoint over anything new, then push
 * the outbox. The reconcile state is committed only after sealing, so a crash replays the changes.
 */

export interface SyncOptions {
  /** Seal only these versions (a webhook's), without a full reconcile. */
  only?: { model: string; version: string }[];
  /** Skip delivery (seal and checkpoint only). */
  push?: boolean;
  onVersion?: (done: number, total: number) => void;
}

export interface SyncOutcome {
  model: string;
  version: string;
  outcome: SealOutcome["outcome"] | "error";
  /** The record sealed, the error, or for "waiting": "waiting for ROLE since TIME". */
  detail?: string;
  /** For "waiting": the role awaited (null when the ML team must resubmit) and since when. */
  nextRole?: string | null;
  since?: string;
}

export interface SyncReport {
  changed: number;
  outcomes: SyncOutcome[];
  sealed: number;
  checkpoint: number | null;
  deliveries: Record<string, DestinationResult>;
}

/** What a sync pass needs: the sealer's parts, the delivery targets and how many lanes to run. */
export interface SyncDeps extends SealerDeps {
  /**
   * The store's directory, for what is still kept in files there beside the EvidenceStore and
   * the Ledger: the source's last-seen state and the outbox.
   */
  storeDir: string;
  logger: Logger;
  targets: DeliveryTarget[];
  config: { sync: { concurrency: number } };
}

const versionKey = (model: string, version: string) => `${model}\n${version}`;

/** Which role a waiting version waits for, and since when (approvals/status.ts). */
async function waitingFor(app: SyncDeps, v: { model: string; version: string }) {
  // The ledger too: a cycle with decision events waits for whom the sealer will judge it to.
  const deps = { store: app.store, trust: app.trust, policy: app.policy.policy, ledger: app.ledger };
  const status = await versionStatus(
    deps,
    await app.source.version(v.model, v.version),
    app.now?.() ?? new Date(),
  );
  if (!status) return {};
  return { detail: describeWait(status), nextRole: status.result.nextRole, since: status.waitingSince };
}

export async function syncOnce(app: SyncDeps, o: SyncOptions = {}): Promise<SyncReport> {
  const log = app.logger.child({ job: "sync" });
  let work: { model: string; version: string }[];
  let commit = async () => {};
  // Once each: two lanes sealing one version at once could seal its package twice.
  if (o.only) work = [...new Map(o.only.map((v) => [versionKey(v.model, v.version), v])).values()];
  else {
    // The source keeps its last-seen state beside the evidence it led to.
    const r = await app.source.changes(join(app.storeDir, "state"));
    const changed = new Set(r.events.filter((e) => e.version).map((e) => versionKey(e.model, e.version!)));
    // Changed versions under review, plus every sealed approval (its expiry may have passed).
    work = r.current
      .filter(
        (v) =>
          (changed.has(versionKey(v.model, v.version)) && v.tags[TAGS.package]) ||
          v.tags[TAGS.state] === "approved",
      )
      .map(({ model, version }) => ({ model, version }));
    commit = r.commit;
  }
  const before = app.ledger.size;
  // Versions are independent; the ledger serialises appends, so entries land in finishing order.
  const lanes = new PQueue({ concurrency: app.config.sync.concurrency });
  let done = 0;
  const outcomes: SyncReport["outcomes"] = await Promise.all(
    work.map((v) =>
      lanes.add(async () => {
        try {
          const out = await sealVersion(app, v.model, v.version);
          if (out.outcome === "sealed")
            log.info({ ...v, record: out.record, decision: out.decision }, "sealed");
          // The wait is reported, not judged: a failure to describe it must not fail the version.
          if (out.outcome === "waiting")
            return {
              ...v,
              outcome: out.outcome,
              ...(await waitingFor(app, v).catch(() => ({ nextRole: out.nextRole }))),
            };
          return { ...v, outcome: out.outcome, ...("record" in out ? { detail: out.record } : {}) };
        } catch (err) {
          // One bad version (a corrupt package, a refused tag write) must not stop the others.
          log.error({ ...v, err: describeError(err) }, "sealing failed");
          return { ...v, outcome: "error" as const, detail: describeError(err) };
        } finally {
          o.onVersion?.(++done, work.length);
        }
      }),
    ),
  );
  const sealed = app.ledger.size - before;
  // Evidence carries an inclusion proof to a signed checkpoint, so new records get one now.
  if (sealed > 0) await app.ledger.checkpoint(app.signer);
  const checkpoint = sealed > 0 ? app.ledger.size : null;
  if (!outcomes.some((x) => x.outcome === "error")) await commit();
  const deliveries =
    o.push === false || app.targets.length === 0
      ? {}
      : await pushOutbox({
          storeRoot: app.storeDir,
          store: app.store,
          ledger: app.ledger,
          targets: app.targets,
          signer: app.signer,
          logger: log,
        });
  return { changed: work.length, outcomes, sealed, checkpoint, deliveries };
}
