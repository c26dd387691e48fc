import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import type { Logger } from "pino";
import type { z } from "zod";
import { resolveSecret } from "../../src/core/secrets.js";
import { SealgateError } from "../../src/core/errors.js";
import { HttpClient, type HttpClientOptions, type RequestOptions } from "../../src/core/http/client.js";
import { DEFAULT_BACKOFF } from "../../src/core/http/retry.js";
import { VantaTokens } from "./auth.js";
import type { VantaConfig } from "./config.js";
import { Page, parseResponse } from "./responses.js";
import type { RetryOptions } from "./retry.js";
import { VantaError, vantaErrorBody } from "./errors.js";

export interface VantaApiOptions {
  logger?: Logger;
  env?: NodeJS.ProcessEnv;
  /** Test seams: backoff, sleep (also used for waits between token mints), and the clock. */
  http?: Partial<HttpClientOptions>;
  now?: () => number;
}

/**
 * Authenticated access to Vanta's REST API through the one HTTP client: the shared token on
 * every request (one retry with a replaced token on 401), cursor paging, file downloads.
 */
export class VantaApi {
  readonly retry: RetryOptions;
  readonly tokens: VantaTokens;
  private readonly http: HttpClient;

  constructor(
    private readonly config: VantaConfig,
    scope: string,
    where: string,
    options: VantaApiOptions = {},
  ) {
    const clientSecret = resolveSecret(config.auth.clientSecret, `${where}.auth.clientSecret`, options.env);
    const policy = { ...DEFAULT_BACKOFF, ...options.http?.backoff, retries: config.retries };
    this.retry = {
      policy,
      fallbackMs: config.retryAfterFallbackMs,
      sleep: options.http?.sleep ?? ((ms: number) => sleep(ms)),
    };
    this.http = new HttpClient({
      baseUrl: config.url,
      timeoutMs: config.timeoutMs,
      bodyTimeoutMs: config.bodyTimeoutMs,
      retryAfterFallbackMs: config.retryAfterFallbackMs,
      ...(config.ca ? { ca: readCa(config.ca, `${where}.ca`) } : {}),
      ...(options.logger ? { logger: options.logger } : {}),
      errorBody: vantaErrorBody,
      ...options.http,
      backoff: policy,
    });
    this.tokens = new VantaTokens({
      http: this.http,
      clientId: config.auth.clientId,
      clientSecret,
      scope,
      mintsPerMinute: config.tokenRequestsPerMinute,
      retry: this.retry,
      ...(options.now ? { now: options.now } : {}),
      ...(options.logger ? { logger: options.logger } : {}),
    });
  }

  /** JSON request with the shared token. */
  call(opts: RequestOptions): Promise<unknown> {
    return this.authed((authorization) =>
      this.http.json({ ...opts, headers: { ...opts.headers, authorization } }),
    );
  }

  /** Size and SHA-256 of a file Vanta serves, streamed (never held in memory whole). */
  async digest(path: string): Promise<{ size: number; sha256: string }> {
    const res = await this.authed((authorization) =>
      this.http.stream({ method: "GET", path, headers: { authorization, accept: "*/*" } }),
    );
    const hash = createHash("sha256");
    let size = 0;
    for await (const chunk of res.body) {
      hash.update(chunk as Buffer);
      size += (chunk as Buffer).length;
    }
    return { size, sha256: hash.digest("hex") };
  }

  /** Every item of a cursor-paged list. */
  async *list<T extends z.ZodType>(path: string, item: T): AsyncGenerator<z.infer<T>> {
    const page = Page(item);
    let cursor: string | undefined;
    do {
      const query = { pageSize: this.config.pageSize, pageCursor: cursor };
      const { results } = parseResponse(
        page,
        await this.call({ method: "GET", path, query }),
        `GET /${path}`,
      );
      yield* results.data as z.infer<T>[];
      cursor = results.pageInfo.hasNextPage ? (results.pageInfo.endCursor ?? undefined) : undefined;
      if (results.pageInfo.hasNextPage && !cursor) {
        throw new VantaError("VANTA_RESPONSE_INVALID", `Vanta GET /${path}: hasNextPage without endCursor`);
      }
    } while (cursor);
  }

  close(): Promise<void> {
    return this.http.close();
  }

  private authed<T>(send: (authorization: string) => Promise<T>): Promise<T> {
    return this.tokens.send(send);
  }
}

function readCa(path: string, where: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch (cause) {
    throw new SealgateError("CONFIG_INVALID", `${where}: cannot read CA file ${path}`, { cause });
  }
}
