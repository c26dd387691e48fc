import { parseQuery, runQuery } from "./query.js";
import { checkWriteHeaders, page, present, type Reply, type SimRequest, snError } from "./reply.js";
import type { InstanceState } from "./state.js";

export interface TableOptions {
  /** glide.invalid_query.returns_no_rows (false on a default instance). */
  invalidQueryReturnsNoRows: boolean;
  base: string;
}

const PATH = /^\/api\/now\/(?:v\d+\/)?table\/([A-Za-z0-9_]+)(?:\/([0-9a-f]{32}))?$/;

/** The Table API: GET a list or one row, POST one row. Other methods are refused with 405. */
export function tableApi(req: SimRequest, state: InstanceState, opts: TableOptions): Reply | null {
  const m = PATH.exec(req.url.pathname);
  if (!m) return null;
  const [, table, sysId] = m as unknown as [string, string, string | undefined];
  if (!state.tables.has(table)) return snError(400, `Invalid table ${table}`);
  const columns = state.columns(table);
  const references = new Set([...columns].filter(([, t]) => t === "reference").map(([c]) => c));
  const show = (row: Record<string, string>) => present(row, req.url, references, opts.base);

  if (req.method === "GET") {
    if (sysId) {
      const row = state.read(table).find((r) => r.sys_id === sysId);
      if (!row)
        return snError(404, "No Record found", "Record doesn't exist or ACL restricts the record retrieval");
      return { status: 200, json: { result: show(row) } };
    }
    const q = parseQuery(req.url.searchParams.get("sysparm_query"));
    const rows = runQuery(state.read(table), q, new Set(columns.keys()), opts.invalidQueryReturnsNoRows);
    const p = page(rows, req.url, 10_000);
    return { status: 200, headers: p.headers, json: { result: p.rows.map(show) } };
  }

  if (req.method === "POST" && !sysId) {
    const bad = checkWriteHeaders(req, "json");
    if (bad) return bad;
    let body: unknown;
    try {
      body = JSON.parse(req.body.toString("utf8"));
    } catch {
      return snError(400, "Exception while reading request", "The payload is not valid JSON.");
    }
    if (!body || typeof body !== "object" || Array.isArray(body)) {
      return snError(400, "Exception while reading request", "The payload is not a JSON object.");
    }
    if (table === "sys_db_object" || table === "sys_dictionary") {
      return snError(403, "Operation Failed", "ACL Exception Insert Failed due to security constraints");
    }
    const row = state.insert(table, body as Record<string, unknown>);
    const headers = { location: `${opts.base}/api/now/table/${table}/${row.sys_id}` };
    if (req.headers["x-no-response-body"] === "true") return { status: 201, headers };
    return { status: 201, headers, json: { result: show(row) } };
  }

  return snError(405, "Method not Supported", `${req.method} is not supported for this resource`);
}
