/*
 * ServiceNow encoded queries (sysparm_query), the subset integrations use: conditions joined
 * by ^ with =, !=, IN, NOT IN, STARTSWITH, LIKE, ISEMPTY, ISNOTEMPTY, plus ORDERBY and
 * ORDERBYDESC. As on a default instance, a condition or ordering on a field the table does
 * not have is silently dropped, unless glide.invalid_query.returns_no_rows is set.
 */

export type Row = Record<string, string>;

interface Condition {
  field: string;
  op: string;
  value: string;
}

export interface ParsedQuery {
  conditions: Condition[];
  order: { field: string; desc: boolean }[];
}

const CONDITION = /^([a-z0-9_]+?)(!=|=|NOT IN|IN|STARTSWITH|LIKE|ISEMPTY|ISNOTEMPTY)(.*)$/s;

export function parseQuery(q: string | null): ParsedQuery {
  const parsed: ParsedQuery = { conditions: [], order: [] };
  for (const part of (q ?? "").split("^")) {
    if (part === "") continue;
    if (part.startsWith("ORDERBYDESC")) parsed.order.push({ field: part.slice(11), desc: true });
    else if (part.startsWith("ORDERBY")) parsed.order.push({ field: part.slice(7), desc: false });
    else {
      const m = CONDITION.exec(part);
      // Unparseable terms name no known field, so the instance ignores them too.
      parsed.conditions.push(
        m ? { field: m[1]!, op: m[2]!, value: m[3]! } : { field: part, op: "?", value: "" },
      );
    }
  }
  return parsed;
}

function holds(row: Row, c: Condition): boolean {
  const v = row[c.field] ?? "";
  switch (c.op) {
    case "=":
      return v === c.value;
    case "!=":
      return v !== c.value;
    case "IN":
      return c.value.split(",").includes(v);
    case "NOT IN":
      return !c.value.split(",").includes(v);
    case "STARTSWITH":
      return v.startsWith(c.value);
    case "LIKE":
      return v.toLowerCase().includes(c.value.toLowerCase());
    case "ISEMPTY":
      return v === "";
    case "ISNOTEMPTY":
      return v !== "";
    default:
      return true;
  }
}

/** Rows matching `q`, ordered; `known` is the table's column set (inherited included). */
export function runQuery(rows: Row[], q: ParsedQuery, known: Set<string>, invalidReturnsNoRows: boolean) {
  const unknown = q.conditions.some((c) => !known.has(c.field));
  if (unknown && invalidReturnsNoRows) return [];
  const conditions = q.conditions.filter((c) => known.has(c.field));
  const out = rows.filter((r) => conditions.every((c) => holds(r, c)));
  const order = q.order.filter((o) => known.has(o.field));
  // Array.prototype.sort is stable, so equal keys keep insertion order.
  return order.length === 0
    ? out
    : out.sort((a, b) => {
        for (const o of order) {
          const x = a[o.field] ?? "";
          const y = b[o.field] ?? "";
          if (x !== y) return (x < y ? -1 : 1) * (o.desc ? -1 : 1);
        }
        return 0;
      });
}
