import { isDeepStrictEqual } from "node:util";
import { z } from "zod";
import { fail, ok, type Reply } from "./envelope.js";
import type { SimField, SimMetadata } from "./seed.js";

/*
 * Records and attachments of the simulated instance, with Archer's validation and quirks:
 * unknown field, values-list and attachment ids are silently dropped while the call still
 * reports success; an update to an unknown content id "succeeds" without doing anything; an
 * update that changes nothing is refused with HTTP 400.
 */

export interface SimContent {
  Id: number;
  LevelId: number;
  values: Map<number, unknown>;
}

const FieldInput = z.object({ Type: z.int(), Value: z.unknown(), FieldId: z.int().optional() });
export const ContentBody = z.object({
  Content: z.object({
    Id: z.int().optional(),
    LevelId: z.int(),
    FieldContents: z.record(z.string().regex(/^\d+$/), FieldInput),
  }),
});

export class ContentStore {
  readonly records = new Map<number, SimContent>();
  readonly attachments = new Map<number, { name: string; bytes: Buffer }>();
  private nextId = 206_000;
  private nextAttachment = 9_100;

  constructor(
    readonly meta: SimMetadata,
    /** HTTP status of validation failures: 200 (envelope only) or 400; both seen in the field. */
    private readonly validationStatus: 200 | 400,
  ) {}

  fieldsOf(levelId: number): SimField[] {
    return this.meta.fields.filter((f) => f.LevelId === levelId);
  }

  create(body: z.infer<typeof ContentBody>["Content"]): Reply {
    if (!this.meta.levels.some((l) => l.Id === body.LevelId)) {
      return fail(this.validationStatus, "InvalidLevel", `The level ${body.LevelId} does not exist.`);
    }
    const values = this.coerce(body.LevelId, body.FieldContents);
    if (!(values instanceof Map)) return values;
    const id = this.nextId++;
    const tracking = this.fieldsOf(body.LevelId).find((f) => f.Type === 6);
    if (tracking) values.set(tracking.Id, id);
    const missing = this.missingRequired(body.LevelId, values);
    if (missing) return missing;
    this.records.set(id, { Id: id, LevelId: body.LevelId, values });
    return ok({ Id: id });
  }

  update(body: z.infer<typeof ContentBody>["Content"]): Reply {
    const record = body.Id === undefined ? undefined : this.records.get(body.Id);
    // Quirk: an unknown content id is ignored and the call still reports success.
    if (!record || record.LevelId !== body.LevelId) return ok({ Id: body.Id ?? 0 });
    const values = this.coerce(body.LevelId, body.FieldContents);
    if (!(values instanceof Map)) return values;
    if ([...values].every(([id, v]) => isDeepStrictEqual(record.values.get(id) ?? null, v))) {
      return fail(400, "NoChanges", "The record could not be saved because no field values were changed.");
    }
    const merged = new Map([...record.values, ...values]);
    const missing = this.missingRequired(body.LevelId, merged);
    if (missing) return missing;
    record.values = merged;
    return ok({ Id: record.Id });
  }

  addAttachment(name: string, base64: string): Reply {
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(base64) || base64.length % 4 !== 0) {
      return fail(this.validationStatus, "InvalidAttachment", "The attachment bytes are not valid base64.");
    }
    const id = this.nextAttachment++;
    this.attachments.set(id, { name, bytes: Buffer.from(base64, "base64") });
    return ok({ Id: id });
  }

  /** The wire shape of one record, as GET core/content/{id} returns it. */
  render(record: SimContent) {
    const FieldContents: Record<string, unknown> = {};
    for (const f of this.fieldsOf(record.LevelId)) {
      FieldContents[f.Id] = {
        Type: f.Type,
        Tag: f.Alias,
        Value: record.values.get(f.Id) ?? null,
        FieldId: f.Id,
      };
    }
    return { Id: record.Id, LevelId: record.LevelId, SequentialId: record.Id, FieldContents };
  }

  private coerce(
    levelId: number,
    input: Record<string, z.infer<typeof FieldInput>>,
  ): Map<number, unknown> | Reply {
    const out = new Map<number, unknown>();
    for (const [key, item] of Object.entries(input)) {
      const field = this.fieldsOf(levelId).find((f) => f.Id === Number(key));
      if (!field || [6, 20, 21, 22].includes(field.Type)) continue; // quirk: ignored, still "successful"
      if (item.Type !== field.Type) {
        return fail(
          this.validationStatus,
          "InvalidFieldType",
          `The ${field.Name} field expects type ${field.Type}, not ${item.Type}.`,
        );
      }
      const value = this.value(field, item.Value);
      if (value === undefined) {
        return fail(
          this.validationStatus,
          "InvalidValue",
          `The value supplied for the ${field.Name} field is not valid.`,
        );
      }
      out.set(field.Id, value);
    }
    return out;
  }

  /** The stored value, or undefined when the shape is wrong for the type. */
  private value(field: SimField, v: unknown): unknown {
    if (v === null) return null;
    switch (field.Type) {
      case 1:
        return typeof v === "string" ? v : undefined;
      case 2:
        return typeof v === "number" && Number.isFinite(v) ? v : undefined;
      case 3:
        return typeof v === "string" && !Number.isNaN(Date.parse(v)) ? v : undefined;
      case 4: {
        const parsed = z
          .object({ ValuesListIds: z.array(z.int()), OtherText: z.string().nullish() })
          .safeParse(v);
        if (!parsed.success) return undefined;
        const known = this.meta.valuesLists.get(field.RelatedValuesListId ?? -1) ?? [];
        const ids = parsed.data.ValuesListIds.filter((id) => known.some((k) => k.Id === id));
        return { ValuesListIds: ids, OtherText: parsed.data.OtherText ?? null };
      }
      case 7: {
        const parsed = z.array(z.object({ Name: z.string(), URL: z.string() })).safeParse(v);
        return parsed.success ? parsed.data : undefined;
      }
      case 11: {
        const parsed = z.array(z.int()).safeParse(v);
        return parsed.success ? parsed.data.filter((id) => this.attachments.has(id)) : undefined;
      }
      default:
        return undefined;
    }
  }

  private missingRequired(levelId: number, values: Map<number, unknown>): Reply | null {
    for (const f of this.fieldsOf(levelId)) {
      const v = values.get(f.Id);
      if (f.IsRequired && (v === undefined || v === null || v === "")) {
        return fail(this.validationStatus, "RequiredField", `The ${f.Name} field is a required field.`);
      }
    }
    return null;
  }
}
