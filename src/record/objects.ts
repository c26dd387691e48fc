import type { PromotionRecord } from "./schema.js";

/**
 * Every object a sealed record refers to (its six fields' bytes): what a bundle must carry.
 * Part of the record's format, so both read it from here.
 */
export function referencedObjects(record: PromotionRecord): string[] {
  return recordReferences(record)
    .filter((r) => SIX_FIELDS.has(r.member))
    .map((r) => r.digest);
}

const SIX_FIELDS = new Set([
  "model.manifest",
  "request.object",
  "explanation.object",
  "approvals",
  "modelCard.object",
  "annotations",
]);

/**
 * Every object digest in a record, with the member that holds it: the six fields' bytes, and
 * the review package, the policy file and the previous cycle's record. `verify --store` walks
 * all of them (the reference graph in FORMAT.md).
 */
export function recordReferences(record: PromotionRecord): { member: string; digest: string }[] {
  return [
    { member: "model.manifest", digest: record.model.manifest },
    { member: "request.object", digest: record.request.object },
    { member: "explanation.object", digest: record.explanation.object },
    ...record.approvals.map((a) => ({ member: "approvals", digest: a.assertion })),
    ...(record.modelCard ? [{ member: "modelCard.object", digest: record.modelCard.object }] : []),
    ...record.annotations.map((a) => ({ member: "annotations", digest: a.assertion })),
    { member: "package", digest: record.package },
    { member: "policy.digest", digest: record.policy.digest },
    ...(record.cycle.previous ? [{ member: "cycle.previous", digest: record.cycle.previous }] : []),
  ];
}
