import { createHash } from "node:crypto";
import { join } from "node:path";
import { ReconcileState, reconcile, versionKey } from "../../connectors/mlflow/reconcile.js";
import type { App } from "../app.js";
import { type DestinationResult, pushOutbox } from "../deliver/engine.js";
import { describeError } from "../errors.js";
import { type SealOutcome, sealVersion } from "../governance/sealer.js";
import { TAGS } from "../governance/tags.js";

/*
 * One evidence sync pass, as `sealgate sync` and the daemon run it: reconcile MLflow against
 * the last seen state, seal every changed version whose review cycle completed (and re-check
 * sealed approvals for expiry), sign a checkpoint over anything new, then push the outbox.
 * The reconcile state is committed only after sealing, so a crash replays the changes.
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
  if (o.only) work = o.only;
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
  const outcomes: SyncReport["outcomes"] = [];
  for (const [i, v] of work.entries()) {
    try {
      const out = await sealVersion(app, v.model, v.version);
      outcomes.push({ ...v, outcome: out.outcome, ...("record" in out ? { detail: out.record } : {}) });
      if (out.outcome === "sealed") log.info({ ...v, record: out.record, decision: out.decision }, "sealed");
    } catch (err) {
      // One bad version (a corrupt package, a refused tag write) must not stop the others.
      outcomes.push({ ...v, outcome: "error", detail: describeError(err) });
      log.error({ ...v, err: describeError(err) }, "sealing failed");
    }
    o.onVersion?.(i + 1, work.length);
  }
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
