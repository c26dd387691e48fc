import { createHash } from "node:crypto";

/*
 * The simulated instance's data model: a few real tables with their real column types, the
 * inheritance the GRC tables may or may not have (UNCONFIRMED whether the sn_grc_* task
 * tables extend task and so carry correlation_id: both layouts are selectable), and the
 * metadata tables sys_db_object and sys_dictionary generated from these definitions.
 */

export interface ColumnDef {
  element: string;
  type: string;
  maxLength: number;
  mandatory?: boolean;
  readOnly?: boolean;
  defaultValue?: string;
}

export interface TableDef {
  name: string;
  extends?: string;
  columns: ColumnDef[];
}

const col = (element: string, type: string, maxLength = 40, extra: Partial<ColumnDef> = {}): ColumnDef => ({
  element,
  type,
  maxLength,
  ...extra,
});

const SYSTEM = [
  col("sys_id", "GUID", 32, { readOnly: true }),
  col("sys_created_on", "glide_date_time", 40, { readOnly: true }),
  col("sys_updated_on", "glide_date_time", 40, { readOnly: true }),
  col("sys_created_by", "string", 40, { readOnly: true }),
  col("sys_class_name", "sys_class_name", 80, { readOnly: true }),
];

export function buildTables(grcExtendsTask: boolean): TableDef[] {
  const taskColumns = [
    ...SYSTEM,
    col("number", "string", 40, { defaultValue: "javascript:getNextObjNumberPadded();" }),
    col("short_description", "string", 160),
    col("description", "string", 4000),
    col("correlation_id", "string", 100),
    col("correlation_display", "string", 100),
    col("state", "integer", 40, { defaultValue: "1" }),
    col("priority", "integer", 40),
    col("active", "boolean", 40, { defaultValue: "true" }),
    col("opened_at", "glide_date_time", 40),
    col("assigned_to", "reference", 32),
  ];
  const reviewColumns = [
    col("ai_system", "reference", 32),
    col("review_type", "string", 40),
    col("u_sealgate_digest", "string", 100),
  ];
  return [
    { name: "task", columns: taskColumns },
    grcExtendsTask
      ? { name: "sn_grc_ai_gov_ai_system_task", extends: "task", columns: reviewColumns }
      : {
          name: "sn_grc_ai_gov_ai_system_task",
          columns: [
            ...SYSTEM,
            col("short_description", "string", 160),
            col("description", "string", 4000),
            ...reviewColumns,
          ],
        },
    {
      name: "sn_grc_ai_gov_ai_system",
      columns: [
        ...SYSTEM,
        col("name", "string", 100, { mandatory: true }),
        col("description", "string", 4000),
        col("u_sealgate_digest", "string", 100),
        col("u_short_ref", "string", 40),
      ],
    },
    {
      name: "sys_db_object",
      columns: [
        ...SYSTEM,
        col("name", "string", 80),
        col("label", "string", 80),
        col("super_class", "reference", 32),
      ],
    },
    {
      name: "sys_dictionary",
      columns: [
        ...SYSTEM,
        col("name", "string", 80),
        col("element", "string", 80),
        col("internal_type", "reference", 32),
        col("max_length", "integer"),
        col("mandatory", "boolean"),
        col("read_only", "boolean"),
        col("active", "boolean"),
        col("default_value", "string", 512),
      ],
    },
  ];
}

/** A stable sys_id for a metadata row, so repeated reads agree. */
export function metaId(...parts: string[]): string {
  return createHash("sha256").update(parts.join("\0")).digest("hex").slice(0, 32);
}

/** The rows of sys_db_object and sys_dictionary describing `tables`. */
export function metadataRows(tables: TableDef[]): {
  dbObject: Record<string, string>[];
  dictionary: Record<string, string>[];
} {
  const stamp = { sys_created_on: "2024-01-01 00:00:00", sys_created_by: "system" };
  const dbObject = tables.map((t) => ({
    ...stamp,
    sys_id: metaId("table", t.name),
    sys_class_name: "sys_db_object",
    name: t.name,
    label: t.name,
    super_class: t.extends ? metaId("table", t.extends) : "",
  }));
  const dictionary = tables.flatMap((t) =>
    [{ element: "", type: "collection", maxLength: 40 } as ColumnDef, ...t.columns].map((c) => ({
      ...stamp,
      sys_id: metaId("column", t.name, c.element),
      sys_class_name: "sys_dictionary",
      name: t.name,
      element: c.element,
      internal_type: c.type,
      max_length: String(c.maxLength),
      mandatory: String(Boolean(c.mandatory)),
      read_only: String(Boolean(c.readOnly)),
      active: "true",
      default_value: c.defaultValue ?? "",
    })),
  );
  return { dbObject, dictionary };
}
