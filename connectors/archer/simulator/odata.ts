/*
 * The OData subset the simulator understands: $top, $skip, $select, and $filter with one
 * `Name eq 'literal'` comparison (quotes doubled inside literals). Anything else in $filter is
 * refused, as a real OData processor refuses what it cannot parse, so a client cannot rely on
 * a filter the simulator silently ignored.
 */

export interface ODataQuery {
  top?: number;
  skip: number;
  select?: string[];
  filter?: { property: string; value: string };
}

export class ODataError extends Error {}

/** Parses "?$top=5&$skip=10" (from a body's Value) or URLSearchParams (from the URL). */
export function parseOData(source: string | URLSearchParams): ODataQuery {
  const params = typeof source === "string" ? new URLSearchParams(source.replace(/^\?/, "")) : source;
  const out: ODataQuery = { skip: 0 };
  for (const [key, raw] of params) {
    const name = key.replace(/^\$/, "").toLowerCase();
    if (name === "top") out.top = count(raw, "$top");
    else if (name === "skip") out.skip = count(raw, "$skip");
    else if (name === "select") out.select = raw.split(",").map((s) => s.trim());
    else if (name === "filter") out.filter = parseFilter(raw);
    else if (name === "orderby") continue;
    else throw new ODataError(`The query parameter '${key}' is not supported.`);
  }
  return out;
}

function count(raw: string, what: string): number {
  if (!/^\d+$/.test(raw))
    throw new ODataError(`Invalid value '${raw}' for ${what}; it must be a non-negative integer.`);
  return Number(raw);
}

function parseFilter(raw: string): { property: string; value: string } {
  const m = /^\s*([A-Za-z_][A-Za-z0-9_]*)\s+eq\s+'((?:[^']|'')*)'\s*$/.exec(raw);
  if (!m) throw new ODataError(`The $filter '${raw}' is not supported; use Property eq 'value'.`);
  return { property: m[1] as string, value: (m[2] as string).replaceAll("''", "'") };
}

/** One page of `items` after $skip/$top, never more than the server's own cap. */
export function page<T>(items: T[], q: ODataQuery, cap: number): T[] {
  return items.slice(q.skip, q.skip + Math.min(q.top ?? cap, cap));
}
