import type { z } from "zod";
import { SealgateError, type VendorErrorClass } from "../errors.js";
import { scrub } from "../util/secret-values.js";

const SECRET_PARAM = /token|secret|password|passwd|key|sig|auth|session/i;

/** A URL safe to print: no userinfo, secret-looking query values replaced. */
export function redactUrl(url: string | URL): string {
  let u: URL;
  try {
    u = new URL(String(url));
  } catch {
    return "<invalid url>";
  }
  u.username = "";
  u.password = "";
  for (const name of [...u.searchParams.keys()]) {
    if (SECRET_PARAM.test(name)) u.searchParams.set(name, "REDACTED");
  }
  return u.toString();
}

export interface RemoteError {
  /** Machine code from the body, e.g. MLflow's RESOURCE_DOES_NOT_EXIST. */
  code?: string;
  message: string;
}

/**
 * How one remote system's error bodies read: the reason (and a code, if the system has them)
 * from a body as received. A connector passes its own to `HttpClient` (errorBody); vendor shapes
 * live in the vendor's folder. Readers neither scrub nor clip: HttpStatusError does both.
 */
export type ErrorBodyReader = (text: string, contentType: string | undefined) => RemoteError;

/** The body as a JSON object, if it is one (a JSON type, or text that looks like JSON). */
export function jsonObject(
  text: string,
  contentType: string | undefined,
): Record<string, unknown> | undefined {
  const trimmed = text.trim();
  if (!(contentType?.includes("json") || trimmed.startsWith("{") || trimmed.startsWith("[")))
    return undefined;
  try {
    const body: unknown = JSON.parse(trimmed);
    return body && typeof body === "object" && !Array.isArray(body)
      ? (body as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined; // Not JSON after all: the caller keeps it as text.
  }
}

/** A non-empty string, or undefined. */
export function nonEmptyString(v: unknown): string | undefined {
  return typeof v === "string" && v.length > 0 ? v : undefined;
}

/** The generic reading, for systems without their own: a JSON `message`, else the text itself. */
export const readErrorBody: ErrorBodyReader = (text, contentType) => ({
  message: nonEmptyString(jsonObject(text, contentType)?.message) ?? text.trim(),
});

function clip(s: string): string {
  return s.length > 500 ? `${s.slice(0, 500)}…` : s;
}

/**
 * A non-2xx answer: carries status, method and a redacted URL, never request headers or secret
 * values. Everything here that came from outside is scrubbed once, in the constructor, whoever
 * builds the error: a server may echo the request, credentials included. The reason is clipped
 * only after that scrub, so a secret cut in half at the clip cannot survive.
 */
export class HttpStatusError extends SealgateError {
  readonly status: number;
  readonly method: string;
  readonly url: string;
  readonly remote: RemoteError;
  readonly retryAfterMs: number | undefined;
  constructor(args: {
    status: number;
    method: string;
    url: string;
    remote: RemoteError;
    retryAfterMs?: number;
  }) {
    const { status, method } = args;
    const [url, code, reason] = [args.url, args.remote.code ?? "", args.remote.message].map(scrub) as [
      string,
      string,
      string,
    ];
    const remote: RemoteError = { ...(code ? { code } : {}), message: clip(reason.trim() || "(empty body)") };
    super("HTTP_STATUS", `${method} ${url} answered ${status}${code ? ` ${code}` : ""}: ${remote.message}`);
    this.name = "HttpStatusError";
    this.status = status;
    this.method = method;
    this.url = url;
    this.remote = remote;
    this.retryAfterMs = args.retryAfterMs;
  }
}

/**
 * The response parser of one remote system: a body that does not fit `schema` fails naming
 * the system, the endpoint and the first offending field (never the body: it may hold secrets).
 * The error is the system's own class and code (connectors/<kind>/errors.ts).
 */
export function responseParser<C extends string>(system: string, ErrorType: VendorErrorClass<C>, code: C) {
  return <T extends z.ZodType>(schema: T, body: unknown, endpoint: string): z.infer<T> => {
    const result = schema.safeParse(body);
    if (result.success) return result.data;
    const issue = result.error.issues[0];
    const where = issue?.path.length ? issue.path.join(".") : "(root)";
    throw new ErrorType(
      code,
      `${system} ${endpoint} answered an unexpected shape at ${where}: ${issue?.message ?? "invalid"}`,
    );
  };
}
