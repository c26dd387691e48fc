import { createHash, randomBytes } from "node:crypto";
import type { SimulatedRecord } from "../../sdk/simulator.js";
import type { Row } from "./query.js";
import { buildTables, metadataRows, type TableDef } from "./tables.js";

export interface StoredAttachment {
  meta: Row;
  bytes: Buffer;
}

interface Token {
  kind: "access" | "refresh";
  expiresAt: number;
}

export const newSysId = () => randomBytes(16).toString("hex");

/** "YYYY-MM-DD hh:mm:ss" in UTC, the Table API's date-time value format. */
export const glideNow = () => new Date().toISOString().slice(0, 19).replace("T", " ");

/**
 * What the simulated instance holds: table rows, attachments, issued tokens. Reads through a
 * parent table include its children's rows, as on a real instance.
 */
export class InstanceState {
  readonly tables = new Map<string, TableDef>();
  private readonly rows = new Map<string, Row[]>();
  readonly attachments: StoredAttachment[] = [];
  readonly tokens = new Map<string, Token>();
  readonly issued: string[] = [];
  private counter = 1000;

  /** Columns a field-level write ACL protects: values sent for them are silently dropped. */
  writeDenied = new Set<string>();

  constructor(grcExtendsTask: boolean) {
    for (const t of buildTables(grcExtendsTask)) this.tables.set(t.name, t);
    const meta = metadataRows([...this.tables.values()]);
    this.rows.set("sys_db_object", meta.dbObject);
    this.rows.set("sys_dictionary", meta.dictionary);
  }

  /** Column name -> type for `table`, inherited columns included. */
  columns(table: string): Map<string, string> {
    const out = new Map<string, string>();
    for (let t = this.tables.get(table); t; t = t.extends ? this.tables.get(t.extends) : undefined) {
      for (const c of t.columns) if (!out.has(c.element)) out.set(c.element, c.type);
    }
    return out;
  }

  maxLength(table: string, element: string): number {
    for (let t = this.tables.get(table); t; t = t.extends ? this.tables.get(t.extends) : undefined) {
      const c = t.columns.find((x) => x.element === element);
      if (c) return c.maxLength;
    }
    return 0;
  }

  /** Rows of `table` and of every table extending it. */
  read(table: string): Row[] {
    const names = [...this.tables.values()].filter((t) => this.extendsOrIs(t.name, table)).map((t) => t.name);
    return names.flatMap((n) => this.rows.get(n) ?? []).sort((a, b) => seq(a) - seq(b));
  }

  private extendsOrIs(name: string, ancestor: string): boolean {
    for (let t = this.tables.get(name); t; t = t.extends ? this.tables.get(t.extends) : undefined) {
      if (t.name === ancestor) return true;
    }
    return false;
  }

  /**
   * Insert as the Table API does: unknown fields dropped, values stored as strings and
   * silently cut at max_length, numbers that are not numbers stored as 0.
   */
  insert(table: string, body: Record<string, unknown>): Row {
    const columns = this.columns(table);
    const row: Row = {};
    for (const element of columns.keys()) row[element] = "";
    for (const [k, v] of Object.entries(body)) {
      const type = columns.get(k);
      if (!type || k.startsWith("sys_") || this.writeDenied.has(k)) continue;
      let text = v === null || v === undefined ? "" : typeof v === "object" ? JSON.stringify(v) : String(v);
      if ((type === "integer" || type === "decimal") && !/^-?\d+(\.\d+)?$/.test(text)) text = text ? "0" : "";
      const max = this.maxLength(table, k);
      row[k] = max > 0 && text.length > max ? text.slice(0, max) : text;
    }
    this.counter++;
    Object.assign(row, {
      sys_id: newSysId(),
      sys_created_on: glideNow(),
      sys_updated_on: glideNow(),
      sys_created_by: "sealgate.integration",
      sys_class_name: table,
      __seq: String(this.counter),
    });
    if ("number" in row && !row.number) row.number = `SGT${String(this.counter).padStart(7, "0")}`;
    const list = this.rows.get(table) ?? [];
    list.push(row);
    this.rows.set(table, list);
    return row;
  }

  /** Vendor data in vendor-neutral terms, for tests. */
  records(correlationFields: string[]): SimulatedRecord[] {
    const system = new Set(["sys_db_object", "sys_dictionary"]);
    return [...this.rows.entries()]
      .filter(([t]) => !system.has(t))
      .flatMap(([, rows]) => rows)
      .map((row) => ({
        id: row.sys_id!,
        correlation: correlationFields.map((f) => row[f]).find((v) => v) ?? null,
        fields: visible(row),
        files: this.attachments
          .filter((a) => a.meta.table_sys_id === row.sys_id)
          .map((a) => ({
            name: a.meta.file_name!,
            size: a.bytes.length,
            sha256: createHash("sha256").update(a.bytes).digest("hex"),
          })),
      }));
  }
}

const seq = (r: Row) => Number(r.__seq ?? 0);

/** A row as the API shows it (without the simulator's insertion counter). */
export function visible(row: Row): Row {
  const { __seq: _, ...rest } = row;
  return rest;
}
