import type { Readable } from "node:stream";
import { setTimeout as sleep } from "node:timers/promises";
import type { Logger } from "pino";
import { Agent, type Dispatcher, request } from "undici";
import { SealgateError } from "../errors.js";
import { type ErrorBodyReader, HttpStatusError, readErrorBody, redactUrl } from "./errors.js";
import { registerAuthorization } from "../util/secret-values.js";
import {
  type BackoffPolicy,
  backoffDelay,
  DEFAULT_BACKOFF,
  isConnectionError,
  isRetryableStatus,
  parseRetryAfter,
} from "./retry.js";

export interface HttpClientOptions {
  baseUrl: string;
  /** Called per attempt so refreshed tokens are picked up; values are never logged. */
  authHeaders?: () => Record<string, string> | Promise<Record<string, string>>;
  /** PEM CA bundle that replaces the system roots (TLS verification is never turned off). */
  ca?: string;
  /** Time allowed for connecting and for the response headers. */
  timeoutMs?: number;
  /** Longest silence allowed between body chunks (streams of any size are fine). */
  bodyTimeoutMs?: number;
  backoff?: Partial<BackoffPolicy>;
  /** Wait after a 429 without Retry-After, for vendors that advise one (else: backoff). */
  retryAfterFallbackMs?: number;
  connections?: number;
  /** How this system's error bodies read (its own shapes live in its connector); else the generic reading. */
  errorBody?: ErrorBodyReader;
  logger?: Logger;
  /** Test seams. */
  sleep?: (ms: number) => Promise<unknown>;
  random?: () => number;
}

export type Query = Record<string, string | number | boolean | undefined | readonly (string | number)[]>;

export interface RequestOptions {
  method: "GET" | "POST" | "PUT" | "PATCH" | "DELETE";
  /** Path relative to baseUrl, or an absolute URL on the same origin. */
  path: string;
  query?: Query;
  json?: unknown;
  body?: string | Uint8Array;
  headers?: Record<string, string>;
  /** Override the client's retry count for this call (0 for non-idempotent requests). */
  retries?: number;
}

export interface StreamResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Readable;
}

/**
 * The one HTTP client every connector uses. Timeouts are always set; retries happen only on
 * connection errors, 408, 429 and 5xx, with full-jitter backoff and Retry-After honoured;
 * any other non-2xx becomes an HttpStatusError that names status, method and URL.
 */
export class HttpClient {
  private readonly dispatcher: Dispatcher;
  private readonly base: URL;
  private readonly policy: BackoffPolicy;
  private readonly sleep: (ms: number) => Promise<unknown>;

  constructor(private readonly options: HttpClientOptions) {
    this.base = new URL(options.baseUrl.endsWith("/") ? options.baseUrl : `${options.baseUrl}/`);
    if (this.base.username || this.base.password) {
      throw new SealgateError(
        "CONFIG_INVALID",
        `${redactUrl(this.base)}: credentials in the URL are not accepted; configure auth separately`,
      );
    }
    const timeout = options.timeoutMs ?? 30_000;
    this.dispatcher = new Agent({
      connect: { timeout, ...(options.ca ? { ca: options.ca } : {}) },
      headersTimeout: timeout,
      bodyTimeout: options.bodyTimeoutMs ?? 60_000,
      connections: options.connections ?? 16,
    });
    this.policy = { ...DEFAULT_BACKOFF, ...options.backoff };
    this.sleep = options.sleep ?? ((ms) => sleep(ms));
  }

  url(path: string, query?: Query): URL {
    const u = new URL(path.replace(/^\//, ""), this.base);
    if (u.origin !== this.base.origin) {
      throw new SealgateError("USAGE", `refusing to send credentials to another origin: ${redactUrl(u)}`);
    }
    for (const [k, v] of Object.entries(query ?? {})) {
      if (v === undefined) continue;
      for (const item of Array.isArray(v) ? v : [v]) u.searchParams.append(k, String(item));
    }
    return u;
  }

  /** JSON in, JSON out. An empty 2xx body yields `{}`. */
  async json(opts: RequestOptions): Promise<unknown> {
    const res = await this.stream(opts);
    const text = await res.body.setEncoding("utf8").toArray();
    const joined = text.join("");
    if (joined.trim() === "") return {};
    try {
      return JSON.parse(joined);
    } catch (cause) {
      throw new SealgateError(
        "HTTP_STATUS",
        `${opts.method} ${redactUrl(this.url(opts.path, opts.query))} answered ${res.status} with a body that is not JSON`,
        { cause },
      );
    }
  }

  /** Any request; resolves once a 2xx arrives with the body still unread (constant memory). */
  async stream(opts: RequestOptions): Promise<StreamResponse> {
    const url = this.url(opts.path, opts.query);
    const shownUrl = redactUrl(url);
    const retries = opts.retries ?? this.policy.retries;
    const body = opts.json !== undefined ? JSON.stringify(opts.json) : opts.body;
    for (let attempt = 0; ; attempt++) {
      const headers: Record<string, string> = {
        accept: "application/json",
        "user-agent": "sealgate",
        ...(opts.json !== undefined ? { "content-type": "application/json" } : {}),
        ...opts.headers,
        ...(await this.options.authHeaders?.()),
      };
      // Minted tokens and Basic credentials are secrets too: scrubbed if a server echoes them.
      for (const [k, v] of Object.entries(headers))
        if (k.toLowerCase() === "authorization") registerAuthorization(v);
      let res: Dispatcher.ResponseData;
      try {
        res = await request(url, { method: opts.method, headers, body, dispatcher: this.dispatcher });
      } catch (cause) {
        if (attempt < retries && isConnectionError(cause)) {
          await this.wait(attempt, undefined, opts.method, shownUrl, describe(cause));
          continue;
        }
        const timedOut = isTimeout(cause);
        throw new SealgateError(
          timedOut ? "HTTP_TIMEOUT" : "HTTP_CONNECTION",
          `${opts.method} ${shownUrl} failed after ${attempt + 1} attempt(s): ${describe(cause)}`,
          { cause },
        );
      }
      if (res.statusCode >= 200 && res.statusCode < 300) {
        return { status: res.statusCode, headers: res.headers, body: res.body };
      }
      const text = await readCapped(res.body, 64 * 1024);
      const retryAfterMs =
        parseRetryAfter(res.headers["retry-after"]) ??
        (res.statusCode === 429 ? this.options.retryAfterFallbackMs : undefined);
      const error = new HttpStatusError({
        status: res.statusCode,
        method: opts.method,
        url: shownUrl,
        remote: (this.options.errorBody ?? readErrorBody)(text, header(res.headers["content-type"])),
        ...(retryAfterMs !== undefined ? { retryAfterMs } : {}),
      });
      if (attempt >= retries || !isRetryableStatus(res.statusCode)) throw error;
      if (retryAfterMs !== undefined && retryAfterMs > this.policy.maxRetryAfterMs) {
        throw new SealgateError(
          "HTTP_RETRY_AFTER_TOO_LONG",
          `${opts.method} ${shownUrl} asked to retry after ${Math.round(retryAfterMs / 1000)} s, longer than the ${Math.round(this.policy.maxRetryAfterMs / 1000)} s allowed`,
          { cause: error },
        );
      }
      await this.wait(attempt, retryAfterMs, opts.method, shownUrl, `status ${res.statusCode}`);
    }
  }

  private async wait(
    attempt: number,
    retryAfterMs: number | undefined,
    method: string,
    url: string,
    why: string,
  ) {
    const delayMs = retryAfterMs ?? backoffDelay(attempt, this.policy, this.options.random);
    this.options.logger?.warn({ method, url, attempt: attempt + 1, delayMs, why }, "retrying HTTP request");
    await this.sleep(delayMs);
  }

  async close(): Promise<void> {
    await this.dispatcher.close();
  }
}

async function readCapped(body: Readable, cap: number): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    if (size < cap) chunks.push(chunk as Buffer);
    size += (chunk as Buffer).length;
  }
  return Buffer.concat(chunks).subarray(0, cap).toString("utf8");
}

function header(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

function describe(err: unknown): string {
  const e = err as { code?: string; message?: string };
  return [e.code, e.message].filter(Boolean).join(" ") || String(err);
}

function isTimeout(err: unknown): boolean {
  const code = (err as { code?: string }).code ?? "";
  return code.includes("TIMEOUT");
}
