import type { Delivery, MappedFields, MappingFinding } from "../../src/delivery/destination/destination.js";
import { SealgateError } from "../../src/core/errors.js";
import type { ServiceNowTarget } from "./config.js";
import type { Column } from "./dictionary.js";

/*
 * Does a mapped value fit a column? The Table API never says no: unknown columns are dropped,
 * over-long strings truncated, non-numbers in numeric columns stored as 0. So sealgate checks
 * before writing, against the dictionary's internal_type and max_length.
 */

type Value = MappedFields[string];

const INTEGER = new Set(["integer", "longint", "order_index"]);
const NUMBER = new Set(["decimal", "float", "currency", "price", "percent_complete"]);
const BOOLEAN = new Set(["boolean"]);
const DATE_TIME = new Set(["glide_date_time", "due_date"]);
const DATE = new Set(["glide_date"]);
const SYS_ID = new Set(["reference", "GUID", "document_id"]);

/** Why `value` does not fit `column`, or null when it does. */
export function misfit(column: Column, value: Value, displayValues = false): string | null {
  if (value === null) return null;
  const t = column.type;
  const text = String(value);
  const expect = (ok: boolean, what: string) => (ok ? null : `${column.element} is ${t}: ${what}`);
  if (INTEGER.has(t)) {
    return expect(
      typeof value !== "boolean" && /^-?\d+$/.test(text),
      `expected a whole number, got ${show(value)}`,
    );
  }
  if (NUMBER.has(t)) {
    return expect(
      typeof value !== "boolean" && /^-?\d+(\.\d+)?$/.test(text),
      `expected a number, got ${show(value)}`,
    );
  }
  if (BOOLEAN.has(t)) return expect(text === "true" || text === "false", `expected true or false`);
  if (DATE_TIME.has(t)) {
    return expect(
      typeof value === "string" && /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/.test(text),
      `expected "YYYY-MM-DD hh:mm:ss" (UTC), got ${show(value)}`,
    );
  }
  if (DATE.has(t)) {
    return expect(/^\d{4}-\d{2}-\d{2}$/.test(text), `expected "YYYY-MM-DD", got ${show(value)}`);
  }
  if (SYS_ID.has(t) && !displayValues) {
    return expect(/^[0-9a-f]{32}$/.test(text), `expected a 32-hex sys_id, got ${show(value)}`);
  }
  // Text-like columns take anything as a string, but the instance cuts it at max_length.
  if (column.maxLength !== null && text.length > column.maxLength) {
    return `${column.element} holds ${column.maxLength} characters; the value has ${text.length} and would be truncated`;
  }
  return null;
}

function show(v: Value): string {
  const s = JSON.stringify(v);
  return s.length > 40 ? `${s.slice(0, 40)}…` : s;
}

/**
 * Findings for a mapping against the live columns: names only (unknown, read-only), values
 * too when a sample delivery's fields are given (wrong type, truncation), and mandatory
 * columns the mapping leaves empty.
 */
export function mappingFindings(
  columns: Map<string, Column>,
  table: string,
  mapped: string[] | MappedFields,
  correlationField: string,
  displayValues = false,
): MappingFinding[] {
  const values: MappedFields | null = Array.isArray(mapped) ? null : mapped;
  const names = Array.isArray(mapped) ? mapped : Object.keys(mapped);
  const findings: MappingFinding[] = [];
  for (const field of names) {
    const column = columns.get(field);
    if (!column) {
      findings.push({
        field,
        problem: "unknown-field",
        detail: `${table} has no column ${field}; the Table API would silently drop it (fix the name in fields:)`,
      });
      continue;
    }
    if (column.readOnly || field.startsWith("sys_")) {
      findings.push({ field, problem: "read-only", detail: `${table}.${field} is read-only; remove it` });
    }
    const why = values ? misfit(column, values[field] ?? null, displayValues) : null;
    if (why) findings.push({ field, problem: "wrong-type", detail: why });
  }
  for (const column of columns.values()) {
    if (!column.mandatory || column.hasDefault || column.element.startsWith("sys_")) continue;
    if (column.element === correlationField || names.includes(column.element)) continue;
    findings.push({
      field: column.element,
      problem: "required-missing",
      detail: `${table}.${column.element} is mandatory and the mapping does not set it`,
    });
  }
  return findings;
}

/** Why the correlation column cannot be trusted to hold a record digest, or null. */
export function correlationMisfit(column: Column | undefined, field: string, table: string): string | null {
  if (!column) {
    return `${table} has no column ${field} (the Table API would ignore a filter on it and match every row); set target.correlationField to an existing text column, e.g. a u_sealgate_digest string column of 80+ characters`;
  }
  const probe = `sha256:${"0".repeat(64)}`;
  const why = misfit(column, probe);
  return why ? `target.correlationField: ${why}; choose a text column of 80+ characters` : null;
}

/** The row to insert: mapped fields checked against their columns, plus the correlation. */
export function rowToWrite(
  destination: string,
  target: ServiceNowTarget,
  columns: Map<string, Column>,
  delivery: Delivery,
): MappedFields {
  const field = target.correlationField;
  const mapped = delivery.fields[field];
  if (mapped !== undefined && mapped !== delivery.correlation) {
    throw new SealgateError(
      "CONFIG_INVALID",
      `destination ${destination}: fields.${field} is the correlation column and must be {{digest}}; remove it from fields:`,
    );
  }
  for (const [name, value] of Object.entries(delivery.fields)) {
    const column = columns.get(name);
    const why = column
      ? misfit(column, value, target.inputDisplayValue)
      : `${target.table} has no column ${name}`;
    if (why) throw new SealgateError("CONFIG_INVALID", `destination ${destination}: fields.${name}: ${why}`);
  }
  return { ...delivery.fields, [field]: delivery.correlation };
}
