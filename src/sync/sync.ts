import { createHash } from "node:crypto";
import { join } from "node:path";
import PQueue from "p-queue";
import { ReconcileState, reconcile, versionKey } from "../../connectors/mlflow/reconcile.js";
import type { App } from "../app.js";
import { type DestinationResult, pushOutbox } from "../deliver/engine.js";
import { describeError } from "../errors.js";
import { type SealOutcome, sealVersion } from "../governance/sealer.js";
import { TAGS } from "../governance/tags.js";

/*
 * One evidence sync pass, as `sealgate sync` and the daemon run it: reconcile MLflow against
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

export interface SyncReport {
  changed: number;
  outcomes: { model: string; version: string; outcome: SealOutcome["outcome"] | "error"; detail?: string }[];
  sealed: number;
  checkpoint: number | null;
  deliveries: Record<string, DestinationResult>;
}

export function reconcileStatePath(app: App): string {
  const tag = createHash("sha256").update(app.config.mlflow.trackingUri).digest("hex").slice(0, 12);
  return join(app.store.root, "state", `mlflow-${tag}.json`);
}

export async function syncOnce(app: App, o: SyncOptions = {}): Promise<SyncReport> {
  const log = app.logger.child({ job: "sync" });
  let work: { model: string; version: string }[];
  let commit = async () => {};
  // Once each: two lanes sealing one version at once could seal its package twice.
  if (o.only) work = [...new Map(o.only.map((v) => [versionKey(v.model, v.version), v])).values()];
  else {
    const r = await reconcile(
      app.client,
      new ReconcileState(reconcileStatePath(app), app.config.mlflow.trackingUri),
    );
    const changed = new Set(r.events.filter((e) => e.version).map((e) => versionKey(e.model, e.version!)));
    // Changed versions under review, plus every sealed approval (its expiry may have passed).
    work = [...r.current.entries()]
      .filter(([k, v]) => (changed.has(k) && v.tags[TAGS.package]) || v.tags[TAGS.state] === "approved")
      .map(([k]) => {
        const [model, version] = k.split("\n") as [string, string];
        return { model, version };
      });
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
          storeRoot: app.store.root,
          targets: app.targets,
          signer: app.signer,
          logger: log,
        });
  return { changed: work.length, outcomes, sealed, checkpoint, deliveries };
}
