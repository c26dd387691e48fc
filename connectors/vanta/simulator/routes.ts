import { z } from "zod";
import { IsoDuration, TIME_SENSITIVITY } from "../config.js";
import { objectId, SCOPES, type SimDocument, type SimUpload, type VantaState } from "./state.js";

/*
 * The documented endpoints, validated the way Vanta documents them. The error body shape is
 * UNCONFIRMED upstream; the simulator answers {name, message} (the OAuth endpoint answers
 * RFC 6749 {error, error_description}), and the client reads only status codes.
 */

export interface SimRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

export interface Reply {
  /** Seconds for Retry-After on a 429 (else the fault knob's value). */
  retryAfterS?: number;
  status: number;
  json?: unknown;
  bytes?: Buffer;
  contentType?: string;
}

export interface RouteOptions {
  tokenTtlSeconds: number;
  now: number;
}

/** The API error body shapes the simulator can answer with (Vanta's is UNCONFIRMED). */
export type ErrorShape = "name-message" | "errors-array" | "text";

/** Re-shape a {name, message} error for the chosen `shape`; OAuth errors keep RFC 6749's. */
export function shapeError(reply: Reply, shape: ErrorShape): Reply {
  const body = reply.json as { name?: string; message?: string } | undefined;
  if (reply.status < 400 || shape === "name-message" || !body?.name) return reply;
  if (shape === "text")
    return { status: reply.status, bytes: Buffer.from(body.message ?? ""), contentType: "text/plain" };
  return { status: reply.status, json: { errors: [{ code: body.name, message: body.message }] } };
}

export const fail = (status: number, name: string, message: string): Reply => ({
  status,
  json: { name, message },
});
const oauthFail = (status: number, error: string, description: string): Reply => ({
  status,
  json: { error, error_description: description },
});

const TokenRequest = z.object({
  client_id: z.string(),
  client_secret: z.string(),
  grant_type: z.string(),
  scope: z.string().optional(),
});

export function token(state: VantaState, req: SimRequest, opts: RouteOptions): Reply {
  if (!String(req.headers["content-type"] ?? "").startsWith("application/json")) {
    return oauthFail(400, "invalid_request", "token requests are JSON (Content-Type: application/json)");
  }
  const parsed = TokenRequest.safeParse(parseJson(req.body));
  if (!parsed.success)
    return oauthFail(400, "invalid_request", "client_id, client_secret and grant_type are required");
  const { client_id, client_secret, grant_type, scope } = parsed.data;
  if (grant_type !== "client_credentials")
    return oauthFail(400, "unsupported_grant_type", "use client_credentials");
  if (client_id !== state.clientId || client_secret !== state.clientSecret) {
    return oauthFail(401, "invalid_client", "client authentication failed");
  }
  const scopes = new Set((scope ?? "vanta-api.all:read").split(" ").filter(Boolean));
  if ([...scopes].some((s) => !(SCOPES as readonly string[]).includes(s))) {
    return oauthFail(400, "invalid_scope", "requested scope is invalid or not granted to this application");
  }
  const t = state.mint(scopes, opts.tokenTtlSeconds, opts.now);
  return {
    status: 200,
    json: { access_token: t.value, expires_in: opts.tokenTtlSeconds, token_type: "Bearer" },
  };
}

/** Bearer check for /v1: only the single active, unexpired token is accepted. */
export function authorize(state: VantaState, req: SimRequest, now: number, scope: string): Reply | null {
  const header = String(req.headers.authorization ?? "");
  const m = /^Bearer (\S+)$/.exec(header);
  if (!m) return fail(401, "Unauthorized", "missing bearer token");
  const active = state.active;
  if (!active || active.value !== m[1] || now >= active.expiresAt) {
    state.count("unauthorized");
    return fail(401, "Unauthorized", "token is invalid, expired or revoked");
  }
  if (!active.scopes.has(scope)) return fail(403, "Forbidden", `token lacks scope ${scope}`);
  return null;
}

const CreateDocument = z.strictObject({
  title: z.string().min(1),
  description: z.string().min(1),
  timeSensitivity: z.enum(TIME_SENSITIVITY),
  cadence: IsoDuration,
  reminderWindow: IsoDuration,
  isSensitive: z.boolean(),
});

export function createDocument(state: VantaState, req: SimRequest): Reply {
  if (!String(req.headers["content-type"] ?? "").startsWith("application/json")) {
    return fail(415, "UnsupportedMediaType", "send application/json");
  }
  const parsed = CreateDocument.safeParse(parseJson(req.body));
  if (!parsed.success) {
    const i = parsed.error.issues[0];
    return fail(422, "ValidationError", `${i?.path.join(".") || "body"}: ${i?.message}`);
  }
  const id = objectId();
  const doc: SimDocument = {
    ...parsed.data,
    id,
    ownerId: state.ownerId,
    category: "Custom",
    uploadStatus: "Needs document",
    uploadStatusDate: new Date().toISOString(),
    url: `https://app.vanta.com/documents/${id}`,
    submitted: false,
    uploads: [],
  };
  state.documents.push(doc);
  return { status: 200, json: documentJson(doc) };
}

export async function uploadFile(state: VantaState, doc: SimDocument, req: SimRequest): Promise<Reply> {
  const type = String(req.headers["content-type"] ?? "");
  if (!type.startsWith("multipart/form-data"))
    return fail(415, "UnsupportedMediaType", "send multipart/form-data");
  let form: FormData;
  try {
    form = await new Request("http://simulator/", {
      method: "POST",
      headers: { "content-type": type },
      body: new Uint8Array(req.body),
    }).formData();
  } catch {
    return fail(400, "BadRequest", "malformed multipart body");
  }
  const file = form.get("file");
  if (!(file instanceof Blob) || !("name" in file)) return fail(422, "ValidationError", "file: required");
  const text = (k: string) => (typeof form.get(k) === "string" ? (form.get(k) as string) : null);
  const bytes = Buffer.from(await file.arrayBuffer());
  const upload = state.addUpload(
    doc,
    { name: String(file.name), type: file.type, bytes },
    text("description"),
    text("effectiveAtDate"),
  );
  return { status: 201, json: uploadJson(upload) };
}

/** Whether a second submit is accepted is undocumented; `resubmit` picks the behaviour. */
export function submit(doc: SimDocument, resubmit: "ok" | "reject"): Reply {
  if (!doc.uploads.some((u) => u.deletionDate === null)) {
    return fail(422, "ValidationError", "document has no uploaded file to submit");
  }
  if (doc.submitted && doc.uploadStatus === "OK" && resubmit === "reject") {
    return fail(422, "ValidationError", "document is already submitted");
  }
  doc.submitted = true;
  doc.uploadStatus = "OK";
  doc.uploadStatusDate = new Date().toISOString();
  return { status: 200, json: documentJson(doc) };
}

export function documentJson(d: SimDocument) {
  const { id, ownerId, category, description, isSensitive, title, uploadStatus, uploadStatusDate, url } = d;
  return { id, ownerId, category, description, isSensitive, title, uploadStatus, uploadStatusDate, url };
}

export function uploadJson(u: SimUpload) {
  return {
    id: u.id,
    fileName: u.fileName,
    title: u.fileName,
    description: u.description,
    url: `https://app.vanta.com/uploads/${u.id}`,
    creationDate: u.creationDate,
    updatedDate: u.creationDate,
    effectiveDate: u.effectiveDate,
    deletionDate: u.deletionDate,
    mimeType: u.mimeType,
    uploadedBy: { id: "sealgate-app", type: "APPLICATION" },
  };
}

function parseJson(body: Buffer): unknown {
  try {
    return JSON.parse(body.toString("utf8"));
  } catch {
    return undefined;
  }
}
