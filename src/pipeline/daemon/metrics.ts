import { Counter, Gauge, Histogram, Registry } from "prom-client";
import type { DestinationResult } from "../../delivery/engine/engine.js";
import type { DestinationStatus } from "../../delivery/outbox/report.js";
import { DELIVERY_STATES } from "../../delivery/outbox/state.js";
import type { SyncReport } from "../sync/sync.js";

/*
 * The daemon's Prometheus metrics, in one private registry (no global state for tests to
 * reset). Sync, push and verify results are recorded as they happen; the oldest pending
 * delivery's age is computed at scrape time from when it was sealed, so it keeps growing
 * between push passes as a stuck delivery really does.
 */

export class DaemonMetrics {
  readonly registry = new Registry();
  private oldestSealedAt = new Map<string, number>();

  readonly versionsSeen = new Counter({
    name: "sealgate_versions_seen_total",
    help: "Model versions examined by sync passes (changed, under review or approved)",
    registers: [this.registry],
  });
  readonly sealed = new Counter({
    name: "sealgate_records_sealed_total",
    help: "Seal attempts by outcome (sealed, already sealed, incomplete, error, ...)",
    labelNames: ["outcome"],
    registers: [this.registry],
  });
  readonly deliveries = new Counter({
    name: "sealgate_deliveries_total",
    help: "Delivery attempts by destination and result",
    labelNames: ["destination", "result"],
    registers: [this.registry],
  });
  readonly deliveryStates = new Gauge({
    name: "sealgate_deliveries",
    help: "Sealed records by destination and delivery state, after the last push pass",
    labelNames: ["destination", "state"],
    registers: [this.registry],
  });
  readonly oldestPending = new Gauge({
    name: "sealgate_oldest_pending_delivery_seconds",
    help: "Age of the oldest sealed record not yet delivered (0 when none waits)",
    labelNames: ["destination"],
    registers: [this.registry],
    collect: () => this.collectOldest(),
  });
  readonly verifyOk = new Gauge({
    name: "sealgate_last_verify_ok",
    help: "1 when the last ledger and store verification found nothing wrong, else 0",
    registers: [this.registry],
  });
  readonly verifyFindings = new Gauge({
    name: "sealgate_last_verify_findings",
    help: "Problems the last verification found",
    registers: [this.registry],
  });
  readonly verifySeconds = new Gauge({
    name: "sealgate_last_verify_duration_seconds",
    help: "How long the last verification took",
    registers: [this.registry],
  });
  readonly verifyTime = new Gauge({
    name: "sealgate_last_verify_timestamp_seconds",
    help: "When the last verification ended (Unix time)",
    registers: [this.registry],
  });
  readonly jobSeconds = new Histogram({
    name: "sealgate_job_duration_seconds",
    help: "Job run durations",
    labelNames: ["job"],
    buckets: [0.1, 0.5, 1, 5, 15, 60, 300, 900, 3600],
    registers: [this.registry],
  });
  readonly jobRuns = new Counter({
    name: "sealgate_job_runs_total",
    help: "Job runs by result (ok, failed)",
    labelNames: ["job", "result"],
    registers: [this.registry],
  });
  readonly jobSkips = new Counter({
    name: "sealgate_job_skipped_total",
    help: "Job ticks skipped because the previous run of the same job was still going",
    labelNames: ["job"],
    registers: [this.registry],
  });
  readonly webhooks = new Counter({
    name: "sealgate_webhook_deliveries_total",
    help: "MLflow webhook deliveries by result (accepted, or the refusal code)",
    labelNames: ["result"],
    registers: [this.registry],
  });

  constructor(private readonly now: () => number = Date.now) {}

  recordSync(r: SyncReport): void {
    this.versionsSeen.inc(r.changed);
    for (const o of r.outcomes) this.sealed.inc({ outcome: o.outcome });
    this.recordPush(r.deliveries);
  }

  recordPush(results: Record<string, DestinationResult>): void {
    for (const [destination, r] of Object.entries(results)) {
      this.deliveries.inc({ destination, result: "delivered" }, r.delivered);
      this.deliveries.inc({ destination, result: "failed" }, r.failed);
      if (r.error) this.deliveries.inc({ destination, result: "error" });
      for (const state of DELIVERY_STATES)
        this.deliveryStates.set({ destination, state }, r.states[state] ?? 0);
    }
  }

  /** From `outboxStatus`: when the oldest waiting record of each destination was sealed. */
  recordBacklog(status: Record<string, DestinationStatus>): void {
    const now = this.now();
    this.oldestSealedAt = new Map(
      Object.entries(status).map(([d, s]) => [
        d,
        s.oldestPendingSeconds === null ? NaN : now - s.oldestPendingSeconds * 1000,
      ]),
    );
  }

  recordVerify(findings: number, seconds: number): void {
    this.verifyOk.set(findings === 0 ? 1 : 0);
    this.verifyFindings.set(findings);
    this.verifySeconds.set(seconds);
    this.verifyTime.set(Math.floor(this.now() / 1000));
  }

  private collectOldest(): void {
    for (const [destination, at] of this.oldestSealedAt)
      this.oldestPending.set(
        { destination },
        Number.isNaN(at) ? 0 : Math.max(0, Math.round((this.now() - at) / 1000)),
      );
  }
}
