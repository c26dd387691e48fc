import { z } from "zod";
import { PromotionRecord } from "../../record/schema.js";

/*
 * Field templates: literal text with {{digest}} or {{record.<dotted path>}} placeholders. Every
 * path is checked against the PromotionRecord zod shape when the mapping compiles, so a typo is
 * a config error, never an empty field in a GRC record. A template that is exactly one
 * placeholder keeps the value's type (a number stays a number).
 */

export type Scalar = string | number | boolean | null;
export type Part = { text: string } | { path: string[] };

const PLACEHOLDER = /\{\{\s*([^{}]*?)\s*\}\}/g;

/** Why a template is wrong, with the fix; null when it is fine. */
export type TemplateProblem = string;

export function parseTemplate(template: string): Part[] | TemplateProblem {
  const parts: Part[] = [];
  let last = 0;
  for (const m of template.matchAll(PLACEHOLDER)) {
    if (m.index > last) parts.push({ text: template.slice(last, m.index) });
    const expr = m[1]!;
    if (expr === "digest") parts.push({ path: ["digest"] });
    else if (/^record(\.[^.\s]+)+$/.test(expr)) parts.push({ path: expr.split(".") });
    else
      return `{{${expr}}} is not a placeholder; use {{digest}} or {{record.<path>}}, e.g. {{record.model.name}}`;
    last = m.index + m[0].length;
  }
  const rest = template.slice(last);
  if (/\{\{|\}\}/.test(rest))
    return `unbalanced braces in ${JSON.stringify(template)}; write {{record.<path>}}`;
  if (rest) parts.push({ text: rest });
  return parts;
}

/** Unwrap optional/nullable/default wrappers to the schema that holds the shape. */
function core(s: z.ZodType): z.ZodType[] {
  if (s instanceof z.ZodOptional || s instanceof z.ZodNullable || s instanceof z.ZodDefault)
    return core(s.unwrap() as z.ZodType);
  if (s instanceof z.ZodUnion) return (s.options as z.ZodType[]).flatMap(core);
  return [s];
}

// By the schema's def type, not its class: string formats (z.iso.datetime(), regex digests) and
// number formats (z.int()) are their own classes in zod 4 but still single values.
const SCALAR_TYPES = new Set(["string", "number", "boolean", "enum", "literal", "null"]);
const isScalar = (s: z.ZodType) => SCALAR_TYPES.has(s._zod.def.type);

function keysOf(schemas: z.ZodType[]): string[] {
  const keys = new Set<string>();
  for (const s of schemas) if (s instanceof z.ZodObject) for (const k of Object.keys(s.shape)) keys.add(k);
  return [...keys];
}

/** Check a record path (without the leading "record") against the record schema. */
export function checkRecordPath(path: string[]): TemplateProblem | null {
  let current: z.ZodType[] = core(PromotionRecord);
  for (let i = 0; i < path.length; i++) {
    const key = path[i]!;
    const here = ["record", ...path.slice(0, i)].join(".");
    const next: z.ZodType[] = [];
    for (const s of current) {
      if (s instanceof z.ZodObject && key in s.shape) next.push(...core(s.shape[key] as z.ZodType));
      else if (s instanceof z.ZodArray && /^(0|[1-9]\d*)$/.test(key))
        next.push(...core(s.element as z.ZodType));
      else if (s instanceof z.ZodRecord) next.push(...core(s.valueType as z.ZodType));
    }
    if (next.length === 0) {
      const keys = keysOf(current);
      const isArray = current.some((s) => s instanceof z.ZodArray);
      return isArray
        ? `${here} is a list; index it by number, e.g. ${here}.0`
        : `${here}.${key} is not a field of the promotion record${keys.length ? `; ${here} has: ${keys.join(", ")}` : ""}`;
    }
    current = next;
  }
  if (!current.every(isScalar)) {
    const keys = keysOf(current);
    const where = ["record", ...path].join(".");
    return keys.length
      ? `${where} is an object; name one of its fields: ${keys.join(", ")}`
      : `${where} is not a single value; name one element or field below it`;
  }
  return null;
}

/** The value at a path, or null when the record has none (a union branch without that field). */
function lookup(record: unknown, path: string[]): Scalar {
  let v: unknown = record;
  for (const key of path) {
    if (v === null || typeof v !== "object") return null;
    v = (v as Record<string, unknown>)[key];
  }
  return v === undefined || (typeof v === "object" && v !== null) ? null : (v as Scalar);
}

export function renderParts(parts: Part[], record: PromotionRecord, digest: string): Scalar {
  const value = (p: Part): Scalar =>
    "text" in p ? p.text : p.path[0] === "digest" ? digest : lookup(record, p.path.slice(1));
  if (parts.length === 1) return value(parts[0]!);
  return parts.map((p) => String(value(p) ?? "")).join("");
}
