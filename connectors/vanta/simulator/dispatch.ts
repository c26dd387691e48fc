import { setTimeout as sleep } from "node:timers/promises";
import { page } from "./paging.js";
import {
  authorize,
  createDocument,
  documentJson,
  fail,
  type Reply,
  type SimRequest,
  submit,
  uploadFile,
  uploadJson,
} from "./routes.js";
import type { VantaState } from "./state.js";

/** The /v1 API: bearer and scope check, then the documented document and upload routes. */
export async function dispatch(
  state: VantaState,
  req: SimRequest,
  ctx: { now: number; slowUploadMs: number; resubmit: "ok" | "reject" },
): Promise<Reply> {
  let parts: string[];
  try {
    parts = req.path.split("/").filter(Boolean).map(decodeURIComponent);
  } catch {
    return fail(400, "BadRequest", "malformed percent-encoding in the path");
  }
  if (parts[0] !== "v1" || parts[1] !== "documents") return fail(404, "NotFound", `no route ${req.path}`);
  const need =
    req.method === "GET"
      ? "vanta-api.all:read"
      : parts[3] === "uploads"
        ? "vanta-api.documents:upload"
        : "vanta-api.all:write";
  const denied = authorize(state, req, ctx.now, need);
  if (denied) return denied;
  if (parts.length === 2) {
    if (req.method === "GET") return page(state.documents, req.query, documentJson);
    if (req.method === "POST") return createDocument(state, req);
    return fail(405, "MethodNotAllowed", "GET or POST");
  }
  const doc = state.document(parts[2] as string);
  if (!doc) return fail(404, "NotFound", `document ${parts[2]} not found`);
  if (parts[3] === "uploads" && parts.length === 4) {
    if (req.method === "GET") return page(doc.uploads, req.query, uploadJson);
    if (req.method === "POST") {
      if (ctx.slowUploadMs > 0) await sleep(ctx.slowUploadMs);
      return uploadFile(state, doc, req);
    }
    return fail(405, "MethodNotAllowed", "GET or POST");
  }
  if (parts[3] === "uploads" && parts[5] === "media" && parts.length === 6 && req.method === "GET") {
    const upload = doc.uploads.find((u) => u.id === parts[4]);
    if (!upload) return fail(404, "NotFound", `upload ${parts[4]} not found`);
    return { status: 200, bytes: upload.bytes, contentType: upload.mimeType };
  }
  if (parts[3] === "submit" && parts.length === 4 && req.method === "POST") return submit(doc, ctx.resubmit);
  return fail(404, "NotFound", `no route ${req.method} ${req.path}`);
}
