import type { PromotionRecord } from "./schema.js";

/**
 * Every object a sealed record refers to (its six fields' bytes): what a store check re-hashes
 * and what a bundle must carry. Part of the record's format, so both read it from here.
 */
export function referencedObjects(record: PromotionRecord): string[] {
  return [
    record.model.manifest,
    record.request.object,
    record.explanation.object,
    ...record.approvals.map((a) => a.assertion),
    ...(record.modelCard ? [record.modelCard.object] : []),
    ...record.annotations.map((a) => a.assertion),
  ];
}
