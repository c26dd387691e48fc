import { createHash } from "node:crypto";
import { parseQuery, type Row, runQuery } from "./query.js";
import { checkWriteHeaders, page, type Reply, type SimRequest, snError } from "./reply.js";
import { glideNow, type InstanceState, newSysId } from "./state.js";

const COLUMNS = new Set([
  "sys_id",
  "table_name",
  "table_sys_id",
  "file_name",
  "content_type",
  "size_bytes",
  "compressed",
  "hash",
  "sys_created_on",
]);

/**
 * The Attachment API: POST /file with a raw body (Content-Type = the file's MIME type,
 * mandatory), GET a list (sysparm_query over sys_attachment, default limit 1000), GET one
 * attachment's metadata or bytes, DELETE one.
 */
export function attachmentApi(req: SimRequest, state: InstanceState, base: string): Reply | null {
  const path = req.url.pathname;
  if (path === "/api/now/attachment/file")
    return req.method === "POST" ? upload(req, state, base) : notAllowed(req);
  if (path === "/api/now/attachment") {
    if (req.method !== "GET") return notAllowed(req);
    const q = parseQuery(req.url.searchParams.get("sysparm_query"));
    const rows = runQuery(
      state.attachments.map((a) => a.meta),
      q,
      COLUMNS,
      false,
    );
    const p = page(rows, req.url, 1000);
    return { status: 200, headers: p.headers, json: { result: p.rows.map((r) => withLink(r, base)) } };
  }
  const one = /^\/api\/now\/attachment\/([0-9a-f]{32})(\/file)?$/.exec(path);
  if (!one) return null;
  const index = state.attachments.findIndex((a) => a.meta.sys_id === one[1]);
  const found = state.attachments[index];
  if (!found) return snError(404, "Record doesn't exist or ACL restricts the record retrieval");
  if (req.method === "DELETE") {
    state.attachments.splice(index, 1);
    return { status: 204 };
  }
  if (req.method !== "GET") return notAllowed(req);
  if (one[2]) {
    return { status: 200, headers: { "content-type": found.meta.content_type ?? "" }, bytes: found.bytes };
  }
  return { status: 200, json: { result: withLink(found.meta, base) } };
}

function upload(req: SimRequest, state: InstanceState, base: string): Reply {
  const bad = checkWriteHeaders(req, "any");
  if (bad) return bad;
  const q = req.url.searchParams;
  for (const param of ["table_name", "table_sys_id", "file_name"]) {
    if (!q.get(param)) return snError(400, `Missing parameter: ${param}`);
  }
  const table = q.get("table_name")!;
  const id = q.get("table_sys_id")!;
  if (!state.tables.has(table) || !state.read(table).some((r) => r.sys_id === id)) {
    return snError(404, "Record doesn't exist or ACL restricts the record retrieval");
  }
  const meta: Row = {
    sys_id: newSysId(),
    table_name: table,
    table_sys_id: id,
    file_name: q.get("file_name")!,
    content_type: req.headers["content-type"]!,
    size_bytes: String(req.body.length),
    compressed: "true",
    hash: createHash("sha256").update(req.body).digest("hex"),
    sys_created_on: glideNow(),
  };
  state.attachments.push({ meta, bytes: req.body });
  return {
    status: 201,
    headers: { location: `${base}/api/now/attachment/${meta.sys_id}` },
    json: { result: withLink(meta, base) },
  };
}

function withLink(meta: Row, base: string): Row {
  return { ...meta, download_link: `${base}/api/now/attachment/${meta.sys_id}/file` };
}

function notAllowed(req: SimRequest): Reply {
  return snError(405, "Method not Supported", `${req.method} is not supported for this resource`);
}
