import { describeError } from "../../core/errors.js";
import type { RegistrySource } from "../../source/registry-source.js";
import { TAGS } from "../cycle/tags.js";
import { type StatusDeps, versionStatus } from "./status.js";

/*
 * What awaits whom: every watched version whose review cycle is open, with the role the chain
 * needs next (or the ML team, after request-changes) and since when. The registry's state tag
 * only picks candidates; the wait itself is worked out from the verified approvals.
 */

export interface PendingItem {
  model: string;
  version: string;
  package: string;
  /** First line of the request's justification. */
  request: string;
  tier: string;
  chain: string[];
  state: "pending_review" | "changes_requested";
  /** The role awaited; null when changes were requested and the ML team must resubmit. */
  nextRole: string | null;
  /** Roles whose decision already counts, in chain order. */
  decided: string[];
  since: string;
  waitedSeconds: number;
}

export interface PendingReport {
  pending: PendingItem[];
  /** Versions whose status could not be read (a missing or corrupt package), with why. */
  unreadable: { model: string; version: string; error: string }[];
}

const OPEN = new Set(["pending_review", "changes_requested"]);

export async function pendingReviews(
  d: StatusDeps & { source: RegistrySource },
  o: { now: Date; role?: string },
): Promise<PendingReport> {
  const report: PendingReport = { pending: [], unreadable: [] };
  for (const m of await d.source.listWatched()) {
    for (const v of m.versions) {
      // A version sealed or never reviewed awaits no one; the tag only narrows the search.
      if (!v.tags[TAGS.package] || !OPEN.has(v.tags[TAGS.state] ?? "pending_review")) continue;
      try {
        const item = await pendingItem(d, m.name, v.version, o.now);
        if (item && (o.role === undefined || item.nextRole === o.role)) report.pending.push(item);
      } catch (err) {
        report.unreadable.push({ model: m.name, version: v.version, error: describeError(err) });
      }
    }
  }
  report.pending.sort((a, b) => a.since.localeCompare(b.since) || a.model.localeCompare(b.model));
  return report;
}

async function pendingItem(
  d: StatusDeps & { source: RegistrySource },
  model: string,
  version: string,
  now: Date,
): Promise<PendingItem | null> {
  const s = await versionStatus(d, await d.source.version(model, version), now);
  if (!s) return null;
  const state = s.result.state;
  if (state !== "pending_review" && state !== "changes_requested") return null;
  return {
    model,
    version,
    package: s.packageDigest,
    request: s.pkg.request.justification.split(/\r?\n/, 1)[0] ?? "",
    tier: s.pkg.materiality.tier,
    chain: s.pkg.materiality.chain,
    state,
    nextRole: s.result.nextRole,
    decided: s.result.counted.map((a) => a.assertion.role),
    since: s.waitingSince,
    waitedSeconds: Math.max(0, Math.floor((now.getTime() - Date.parse(s.waitingSince)) / 1000)),
  };
}

/** "3d 4h", "2h 5m", "7m", "under a minute". */
export function formatWait(seconds: number): string {
  const d = Math.floor(seconds / 86400);
  const h = Math.floor((seconds % 86400) / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  if (d > 0) return `${d}d ${h}h`;
  if (h > 0) return `${h}h ${m}m`;
  return m > 0 ? `${m}m` : "under a minute";
}
