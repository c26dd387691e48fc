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
 * Pull a readable reason out of an error body: MLflow `{error_code, message}`, ServiceNow
 * `{error: {message, detail}}`, Archer's envelope `ValidationMessages[]`, or plain text. The
 * body is scrubbed of secret values first (a server may echo the request), and before clipping,
 * so a secret cut in half at the clip cannot survive.
 */
export function parseErrorBody(text: string, contentType: string | undefined): RemoteError {
  const trimmed = scrub(text).trim();
  if (contentType?.includes("json") || trimmed.startsWith("{") || trimmed.startsWith("[")) {
    try {
      const body = JSON.parse(trimmed) as Record<string, unknown>;
      const nested =
        body.error && typeof body.error === "object" ? (body.error as Record<string, unknown>) : {};
      const messages = Array.isArray(body.ValidationMessages) ? body.ValidationMessages : [];
      const archer = messages
        .map((m) =>
          m && typeof m === "object" ? (m as Record<string, unknown>).ResourcedMessage : undefined,
        )
        .filter((m) => typeof m === "string")
        .join("; ");
      const code = str(body.error_code) ?? str(body.code);
      const serviceNow = [str(nested.message), str(nested.detail)].filter(Boolean).join(": ");
      const message = str(body.message) ?? str(serviceNow) ?? str(archer) ?? str(body.error) ?? trimmed;
      return { ...(code ? { code } : {}), message: clip(message) };
    } catch {
      // Not JSON after all: fall through to plain text.
    }
  }
  return { message: clip(trimmed || "(empty body)") };
}

function str(v: unknown): string | undefined {
  return typeof v === "string" && v.length > 0 ? v : undefined;
}

function clip(s: string): string {
  return s.length > 500 ? `${s.slice(0, 500)}…` : s;
}

/** A non-2xx answer: carries status, method and a redacted URL, never request headers or secret values. */
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
    const { status, method, url } = args;
    // Scrubbed here too: a caller may build the remote part without parseErrorBody.
    const remote: RemoteError = {
      ...(args.remote.code ? { code: scrub(args.remote.code) } : {}),
      message: scrub(args.remote.message),
    };
    const code = remote.code ? ` ${remote.code}` : "";
    super("HTTP_STATUS", scrub(`${method} ${url} answered ${status}${code}: ${remote.message}`));
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
