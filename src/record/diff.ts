import { canonicalBytes } from "./canonical.js";

/*
 * The structured diff a resubmission carries against the cycle it answers (seed: "not just the
 * new documentation, but what was added, removed, or modified"). Objects are compared field by
 * field down to leaves; arrays and scalars are compared whole, as RFC 8785 JSON, so a change
 * reads as one line per field a reviewer would name.
 */

export interface FieldChange {
  path: string;
  kind: "added" | "removed" | "changed";
  before?: string;
  after?: string;
}

const json = (v: unknown) => Buffer.from(canonicalBytes(v ?? null, "diffed field")).toString("utf8");

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

export function diffFields(before: unknown, after: unknown, prefix = ""): FieldChange[] {
  if (isObject(before) && isObject(after)) {
    const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort();
    // Own keys only: a field named "toString" must not match the prototype's function.
    return keys.flatMap((k) => {
      const path = prefix ? `${prefix}.${k}` : k;
      if (!Object.hasOwn(before, k)) return [{ path, kind: "added" as const, after: json(after[k]) }];
      if (!Object.hasOwn(after, k)) return [{ path, kind: "removed" as const, before: json(before[k]) }];
      return diffFields(before[k], after[k], path);
    });
  }
  const b = json(before);
  const a = json(after);
  return a === b ? [] : [{ path: prefix || "(root)", kind: "changed", before: b, after: a }];
}
