import type { MappedFields } from "../../src/delivery/destination/destination.js";
import type { MappingFinding } from "../../src/delivery/destination/destination.js";
import { mappingError, type ValuesLists } from "./metadata.js";
import type { FieldDefinition } from "./responses.js";

/*
 * Mapped values become Archer's typed FieldContents. Each field type takes one JSON shape;
 * a value that cannot become that shape is refused here, naming the field, rather than sent
 * and silently dropped (Archer ignores some invalid inputs and still answers IsSuccessful).
 */

export const FieldType = {
  Text: 1,
  Numeric: 2,
  Date: 3,
  ValuesList: 4,
  TrackingId: 6,
  ExternalLinks: 7,
  Attachment: 11,
} as const;

const TYPE_NAMES: Record<number, string> = {
  1: "Text",
  2: "Numeric",
  3: "Date",
  4: "Values List",
  6: "Tracking ID",
  7: "External Links",
  8: "Users/Groups List",
  9: "Cross-Reference",
  11: "Attachment",
  12: "Image",
  19: "IP Address",
  20: "Record Status",
  21: "First Published",
  22: "Last Updated",
  23: "Related Records",
  24: "Sub-Form",
};

export const typeName = (t: number) => TYPE_NAMES[t] ?? `type ${t}`;

/** Types a mapping can write a scalar into. */
const MAPPABLE = new Set<number>([
  FieldType.Text,
  FieldType.Numeric,
  FieldType.Date,
  FieldType.ValuesList,
  FieldType.ExternalLinks,
]);
/** Types Archer computes itself. */
const READ_ONLY = new Set([6, 20, 21, 22]);

export interface FieldContent {
  Type: number;
  Value: unknown;
  FieldId: number;
}

type Scalar = MappedFields[string];

export async function toFieldContent(
  def: FieldDefinition,
  value: Scalar,
  lists: ValuesLists,
): Promise<FieldContent> {
  const out = (v: unknown): FieldContent => ({ Type: def.Type, Value: v, FieldId: def.Id });
  const refuse = (why: string) =>
    mappingError(
      `fields.${def.Name}`,
      `${JSON.stringify(value)} cannot go into this ${typeName(def.Type)} field: ${why}`,
    );
  if (!MAPPABLE.has(def.Type))
    throw refuse(`sealgate writes Text, Numeric, Date, Values List and External Links fields only`);
  if (value === null) return out(null);
  switch (def.Type) {
    case FieldType.Text:
      return out(String(value));
    case FieldType.Numeric: {
      const n =
        typeof value === "number"
          ? value
          : typeof value === "string" && /^-?\d+(\.\d+)?$/.test(value.trim())
            ? Number(value)
            : NaN;
      if (!Number.isFinite(n)) throw refuse("not a number");
      return out(n);
    }
    case FieldType.Date: {
      if (
        typeof value !== "string" ||
        !/^\d{4}-\d{2}-\d{2}(T[\d:.]+(Z|[+-]\d{2}:\d{2})?)?$/.test(value) ||
        Number.isNaN(Date.parse(value))
      ) {
        throw refuse("not an ISO 8601 date");
      }
      return out(value);
    }
    case FieldType.ValuesList: {
      if (def.RelatedValuesListId == null) throw refuse("the field has no values list");
      return out({
        ValuesListIds: [await lists.idOf(def.RelatedValuesListId, String(value), def.Name)],
        OtherText: null,
      });
    }
    default: {
      if (typeof value !== "string" || !/^https?:\/\/\S+$/.test(value)) throw refuse("not an http(s) URL");
      return out([{ Name: value, URL: value }]);
    }
  }
}

/** What `config check --remote` reports for a mapping's field names against the level. */
export function checkFields(
  mapped: string[],
  fields: Map<string, FieldDefinition>,
  special: { correlation: string; attachment: string },
): MappingFinding[] {
  const findings: MappingFinding[] = [];
  const known = [...fields.keys()].join(", ");
  for (const name of mapped) {
    const def = fields.get(name);
    if (!def)
      findings.push({
        field: name,
        problem: "unknown-field",
        detail: `no field "${name}" on this level; fields are ${known}`,
      });
    else if (READ_ONLY.has(def.Type))
      findings.push({
        field: name,
        problem: "read-only",
        detail: `${typeName(def.Type)} fields are computed by Archer`,
      });
    else if (!MAPPABLE.has(def.Type))
      findings.push({
        field: name,
        problem: "wrong-type",
        detail: `${typeName(def.Type)} fields cannot take a mapped value`,
      });
  }
  const expect = (name: string, type: number, role: string, where: string) => {
    const def = fields.get(name);
    if (!def)
      findings.push({
        field: name,
        problem: "unknown-field",
        detail: `${where}: no field "${name}" on this level for the ${role}`,
      });
    else if (def.Type !== type) {
      findings.push({
        field: name,
        problem: "wrong-type",
        detail: `${where}: the ${role} must be a ${typeName(type)} field, "${name}" is ${typeName(def.Type)}`,
      });
    }
  };
  expect(special.correlation, FieldType.Text, "record digest", "target.correlationField");
  expect(special.attachment, FieldType.Attachment, "evidence files", "target.attachmentField");
  const provided = new Set([...mapped, special.correlation]);
  for (const def of fields.values()) {
    if (!def.IsRequired || provided.has(def.Name) || READ_ONLY.has(def.Type)) continue;
    findings.push({
      field: def.Name,
      problem: "required-missing",
      detail:
        def.Name === special.attachment
          ? "required attachment field: records are created before their files, so Archer would refuse them; make it optional"
          : `Archer requires "${def.Name}" (${typeName(def.Type)}); add it to fields:`,
    });
  }
  return findings;
}
