import { z } from "zod";
import type { MappedFields, MappingFinding } from "../../src/delivery/destination/destination.js";
import { SealgateError } from "../../src/core/errors.js";
import { IsoDuration, TIME_SENSITIVITY, type VantaTarget } from "./config.js";
import { titleFor } from "./title.js";

/*
 * A Vanta document has a fixed field set (POST /v1/documents); there is no metadata API to
 * ask, so this schema is the "live target's metadata". Mapped values override the target's
 * document settings per record; null means "not mapped here, use the target setting".
 */

const Bool = z.union([z.boolean(), z.enum(["true", "false"]).transform((v) => v === "true")]);

const DocumentFields = z.object({
  title: z.string().min(1).optional(),
  description: z.string().min(1).optional(),
  timeSensitivity: z.enum(TIME_SENSITIVITY).optional(),
  cadence: IsoDuration.optional(),
  reminderWindow: IsoDuration.optional(),
  isSensitive: Bool.optional(),
});

export const DOCUMENT_FIELDS = Object.keys(DocumentFields.shape);

/** The body of POST /v1/documents, exactly as Vanta documents it. */
export interface CreateDocumentBody {
  title: string;
  description: string;
  timeSensitivity: (typeof TIME_SENSITIVITY)[number];
  cadence: string;
  reminderWindow: string;
  isSensitive: boolean;
}

/** Mapped field names Vanta documents do not have. */
export function unknownFieldFindings(names: string[]): MappingFinding[] {
  return names
    .filter((n) => !DOCUMENT_FIELDS.includes(n))
    .map((field) => {
      const near = closest(field);
      return {
        field,
        problem: "unknown-field" as const,
        detail: `${near ? `did you mean ${near}? ` : ""}Vanta documents have only ${DOCUMENT_FIELDS.join(", ")}; remove or rename this field`,
      };
    });
}

/** The document field a misspelt name most likely meant (case, separators, or 2 edits away). */
function closest(name: string): string | undefined {
  const squash = (s: string) => s.toLowerCase().replace(/[^a-z]/g, "");
  return (
    DOCUMENT_FIELDS.find((f) => squash(f) === squash(name)) ??
    DOCUMENT_FIELDS.find((f) => editDistance(squash(f), squash(name)) <= 2)
  );
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      row[j] = Math.min((prev[j] as number) + 1, (row[j - 1] as number) + 1, (prev[j - 1] as number) + cost);
    }
    prev = row;
  }
  return prev[b.length] as number;
}

/** Every problem with one record's mapped values: unknown names and wrong types or enum values. */
export function valueFindings(fields: MappedFields): MappingFinding[] {
  const present = Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== null));
  const parsed = DocumentFields.safeParse(present);
  const wrong = parsed.success
    ? []
    : parsed.error.issues.map((i) => ({
        field: String(i.path[0] ?? "(fields)"),
        problem: "wrong-type" as const,
        detail: i.message,
      }));
  return [...unknownFieldFindings(Object.keys(fields)), ...wrong];
}

/** Target settings overridden by the record's mapped values, with the correlation in the title. */
export function documentBody(
  target: VantaTarget,
  fields: MappedFields,
  correlation: string,
): CreateDocumentBody {
  const findings = valueFindings(fields);
  if (findings.length) {
    const list = findings.map((f) => `fields.${f.field}: ${f.detail}`).join("; ");
    throw new SealgateError("CONFIG_INVALID", `Vanta mapping produced values Vanta rejects: ${list}`);
  }
  const present = Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== null));
  const f = DocumentFields.parse(present);
  return {
    title: titleFor([target.titlePrefix, f.title].filter(Boolean).join(": ") || "sealgate", correlation),
    description: f.description ?? target.description,
    timeSensitivity: f.timeSensitivity ?? target.timeSensitivity,
    cadence: f.cadence ?? target.cadence,
    reminderWindow: f.reminderWindow ?? target.reminderWindow,
    isSensitive: f.isSensitive ?? target.isSensitive,
  };
}
