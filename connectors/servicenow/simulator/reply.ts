import type { IncomingHttpHeaders } from "node:http";
import type { Row } from "./query.js";

/** One parsed request, body fully read. */
export interface SimRequest {
  method: string;
  url: URL;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/** What a route answers; the server decides whether it is actually delivered (faults). */
export interface Reply {
  status: number;
  headers?: Record<string, string>;
  json?: unknown;
  bytes?: Buffer;
}

/** ServiceNow's error body: {"error":{"message","detail"},"status":"failure"}. */
export function snError(status: number, message: string, detail: string | null = null): Reply {
  return { status, json: { error: { message, detail }, status: "failure" } };
}

/**
 * Writes need both Accept and Content-Type (400 if either is missing); a body type the API
 * cannot read is 415 and an Accept it cannot produce 406.
 */
export function checkWriteHeaders(req: SimRequest, bodyType: "json" | "any"): Reply | null {
  const accept = req.headers.accept;
  const type = req.headers["content-type"];
  if (!accept) return snError(400, "Accept header is required", "Provide Accept: application/json");
  if (!type) return snError(400, "Content-Type header is required", "Provide Content-Type");
  if (!/application\/json|\*\/\*|application\/\*/.test(accept)) {
    return snError(406, "Not Acceptable", `Cannot produce ${accept}`);
  }
  if (bodyType === "json" && !type.startsWith("application/json")) {
    return snError(415, "Unsupported Media Type", `Content-Type ${type} is not supported`);
  }
  return null;
}

/**
 * One page by sysparm_limit/sysparm_offset, with the Link (first, prev, next, last) and
 * X-Total-Count headers the instance sends.
 */
export function page(
  rows: Row[],
  url: URL,
  defaultLimit: number,
): { rows: Row[]; headers: Record<string, string> } {
  const limit = positive(url.searchParams.get("sysparm_limit")) ?? defaultLimit;
  const offset = positive(url.searchParams.get("sysparm_offset"), true) ?? 0;
  const at = (o: number) => {
    const u = new URL(url);
    u.searchParams.set("sysparm_limit", String(limit));
    u.searchParams.set("sysparm_offset", String(o));
    return u.toString();
  };
  const last = Math.max(0, Math.floor((rows.length - 1) / limit) * limit);
  const links = [`<${at(0)}>;rel="first"`];
  if (offset > 0) links.push(`<${at(Math.max(0, offset - limit))}>;rel="prev"`);
  if (offset + limit < rows.length) links.push(`<${at(offset + limit)}>;rel="next"`);
  links.push(`<${at(last)}>;rel="last"`);
  return {
    rows: rows.slice(offset, offset + limit),
    headers: { link: links.join(","), "x-total-count": String(rows.length) },
  };
}

function positive(v: string | null, zeroOk = false): number | undefined {
  if (v === null || !/^\d+$/.test(v)) return undefined;
  const n = Number(v);
  return n > 0 || zeroOk ? n : undefined;
}

/**
 * A row as the Table API shows it: only sysparm_fields (when given), references as
 * {link, value} unless sysparm_exclude_reference_link=true.
 */
export function present(
  row: Row,
  url: URL,
  references: Set<string>,
  base: string,
): Row | Record<string, unknown> {
  const fields = url.searchParams.get("sysparm_fields");
  const wanted = fields ? fields.split(",").filter(Boolean) : Object.keys(row).filter((k) => k !== "__seq");
  const exclude = url.searchParams.get("sysparm_exclude_reference_link") === "true";
  const out: Record<string, unknown> = {};
  for (const k of wanted) {
    if (!(k in row)) continue;
    const v = row[k] ?? "";
    out[k] =
      references.has(k) && v && !exclude ? { link: `${base}/api/now/table/sys_user/${v}`, value: v } : v;
  }
  return out;
}
