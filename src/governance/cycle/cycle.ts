import { SealgateError } from "../../core/errors.js";
import { diffFields } from "../../record/diff.js";
import { type Cycle, PromotionRecord, type ReviewPackage } from "../../record/schema.js";
import { isDigest } from "../../core/digest.js";
import type { EvidenceStore } from "../../evidence/store/evidence-store.js";

/*
 * Review cycles. A package reviewed after a sealed decision on the same version (a resubmission
 * after a rejection, or a re-review) is the next cycle: it names the sealed record it answers
 * and carries a structured diff against it, so the reviewer who rejected sees exactly what
 * changed, and the diff itself is sealed evidence that the concerns were addressed.
 */

/** Fields that are about the cycle or the moment, not about what was reviewed. */
const NOT_REVIEWED = new Set(["type", "cycle", "observedAt"]);
/** Fields of a sealed record that the next package cannot have yet. */
const DECISION_FIELDS = new Set([
  "approvals",
  "decision",
  "package",
  "conditions",
  "annotations",
  "sealedAt",
]);

const reviewed = (o: Record<string, unknown>, drop: Set<string>) =>
  Object.fromEntries(Object.entries(o).filter(([k]) => !NOT_REVIEWED.has(k) && !drop.has(k)));

export async function loadSealedRecord(store: EvidenceStore, digest: string): Promise<PromotionRecord> {
  if (!isDigest(digest)) throw new SealgateError("USAGE", `${digest} is not a record digest (sha256:<hex>)`);
  if (!(await store.has(digest)))
    throw new SealgateError(
      "OBJECT_MISSING",
      `sealed record ${digest} is not in this evidence store: point store.path at the store that sealed it`,
    );
  const parsed = PromotionRecord.safeParse(JSON.parse(Buffer.from(await store.get(digest)).toString("utf8")));
  if (!parsed.success) throw new SealgateError("OBJECT_CORRUPT", `object ${digest} is not a sealed record`);
  return parsed.data;
}

/** The cycle of a new package: number 1, or the next after `previous` with the diff against it. */
export async function previousCycle(
  store: EvidenceStore,
  pkg: ReviewPackage,
  previous: string | undefined,
): Promise<Cycle> {
  if (!previous) return { number: 1, previous: null, changes: [] };
  const before = await loadSealedRecord(store, previous);
  if (before.model.name !== pkg.model.name)
    throw new SealgateError(
      "USAGE",
      `record ${previous} is for model ${before.model.name}, not ${pkg.model.name}: a resubmission answers a decision on the same model`,
    );
  return {
    number: before.cycle.number + 1,
    previous,
    changes: diffFields(reviewed(before, DECISION_FIELDS), reviewed(pkg, new Set())),
  };
}

/** Every earlier cycle of a record, oldest first, by following `cycle.previous`. */
export async function cycleHistory(store: EvidenceStore, first: string | null, limit = 1000) {
  const out: { digest: string; record: PromotionRecord }[] = [];
  for (let d = first; d && out.length < limit;) {
    const record = await loadSealedRecord(store, d);
    out.unshift({ digest: d, record });
    d = record.cycle.previous;
  }
  return out;
}
