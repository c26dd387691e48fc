import type { ServiceNowApi } from "./api.js";
import { DbObjectList, DictionaryList, parseResponse } from "./responses.js";
import { ServiceNowError } from "./errors.js";

/*
 * The target table's columns from the instance's own metadata: sys_db_object gives the table
 * and the tables it extends (task-derived tables inherit correlation_id from task), and
 * sys_dictionary gives each column's type and length. Every answer is re-checked against the
 * filter sent, because the Table API drops filters on fields it does not know.
 */

export interface Column {
  table: string;
  element: string;
  type: string;
  maxLength: number | null;
  mandatory: boolean;
  readOnly: boolean;
  hasDefault: boolean;
}

const TABLE = "api/now/table";

/** The table, then its parents up to the root, by name. */
async function tableChain(api: ServiceNowApi, table: string): Promise<string[]> {
  const chain: string[] = [];
  let query = `name=${table}`;
  let parentId = "";
  for (let depth = 0; depth < 16; depth++) {
    const body = await api.json({
      method: "GET",
      path: `${TABLE}/sys_db_object`,
      query: {
        sysparm_query: query,
        sysparm_fields: "sys_id,name,super_class",
        sysparm_exclude_reference_link: true,
        sysparm_limit: 2,
      },
    });
    const rows = parseResponse(DbObjectList, body, "sys_db_object");
    const only = rows.result.length === 1 ? rows.result[0] : undefined;
    const row = only && (depth === 0 ? only.name === table : only.sys_id === parentId) ? only : undefined;
    if (!row) {
      if (depth === 0) {
        throw new ServiceNowError(
          "SERVICENOW_TARGET_INVALID",
          `target.table: the instance has no table ${table} (or the integration user cannot read sys_db_object); set target.table to a table of your GRC application`,
        );
      }
      throw new ServiceNowError(
        "SERVICENOW_RESPONSE_INVALID",
        `sys_db_object: the parent of ${chain.at(-1)} could not be read unambiguously`,
      );
    }
    chain.push(row.name);
    if (!row.super_class) return chain;
    if (!/^[0-9a-f]{32}$/.test(row.super_class)) {
      throw new ServiceNowError("SERVICENOW_RESPONSE_INVALID", `sys_db_object ${row.name}: bad super_class`);
    }
    parentId = row.super_class;
    query = `sys_id=${parentId}`;
  }
  throw new ServiceNowError("SERVICENOW_RESPONSE_INVALID", `sys_db_object: ${table} extends too many tables`);
}

/** Every active column of `table`, inherited ones included; the most derived definition wins. */
export async function loadColumns(api: ServiceNowApi, table: string): Promise<Map<string, Column>> {
  const chain = await tableChain(api, table);
  const rows = [];
  for await (const row of api.pages(
    `${TABLE}/sys_dictionary`,
    {
      sysparm_query: `nameIN${chain.join(",")}^active=true^ORDERBYsys_id`,
      sysparm_fields: "name,element,internal_type,max_length,mandatory,read_only,active,default_value",
      sysparm_exclude_reference_link: true,
    },
    DictionaryList,
    "sys_dictionary",
  )) {
    rows.push(row);
  }
  const columns = new Map<string, Column>();
  // Root table first, so a child's override of an inherited column replaces the parent's.
  for (const t of [...chain].reverse()) {
    for (const r of rows) {
      if (r.name !== t || !r.element || r.active === "false") continue;
      const max = Number(r.max_length);
      columns.set(r.element, {
        table: t,
        element: r.element,
        type: r.internal_type,
        maxLength: Number.isInteger(max) && max > 0 ? max : null,
        mandatory: r.mandatory === "true",
        readOnly: r.read_only === "true",
        hasDefault: Boolean(r.default_value),
      });
    }
  }
  if (columns.size === 0) {
    throw new ServiceNowError(
      "SERVICENOW_TARGET_INVALID",
      `target.table: sys_dictionary lists no columns for ${table}; give the integration user read access to sys_dictionary`,
    );
  }
  return columns;
}
