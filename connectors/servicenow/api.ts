import { readFileSync } from "node:fs";
import type { Logger } from "pino";
import type { z } from "zod";
import { SealgateError } from "../../src/core/errors.js";
import {
  HttpClient,
  type HttpClientOptions,
  type Query,
  type RequestOptions,
} from "../../src/core/http/client.js";
import { HttpStatusError } from "../../src/core/http/errors.js";
import { ServiceNowAuthenticator } from "./auth.js";
import type { ServiceNowConfig } from "./config.js";
import { parseResponse } from "./responses.js";
import { ServiceNowError, serviceNowErrorBody } from "./errors.js";

export interface ApiOptions {
  logger?: Logger;
  env?: NodeJS.ProcessEnv;
  /** Test seams (backoff, sleep) passed to the HTTP client. */
  http?: Partial<HttpClientOptions>;
  now?: () => number;
}

/**
 * Authenticated JSON calls to one instance. Each call carries the header it was sent with,
 * so a 401 invalidates exactly that token; the call is then repeated once with a new one.
 */
export class ServiceNowApi {
  readonly http: HttpClient;
  private readonly tokenHttp: HttpClient;
  private readonly auth: ServiceNowAuthenticator;

  constructor(
    readonly config: ServiceNowConfig,
    options: ApiOptions = {},
  ) {
    let ca: string | undefined;
    if (config.ca) {
      try {
        ca = readFileSync(config.ca, "utf8");
      } catch (cause) {
        throw new SealgateError("CONFIG_INVALID", `ca: cannot read ${config.ca}; fix the path`, { cause });
      }
    }
    const common: HttpClientOptions = {
      baseUrl: config.url,
      timeoutMs: config.timeoutMs,
      bodyTimeoutMs: config.bodyTimeoutMs,
      ...(ca ? { ca } : {}),
      ...(options.logger ? { logger: options.logger } : {}),
      errorBody: serviceNowErrorBody,
      ...options.http,
      backoff: { retries: config.retries, ...options.http?.backoff },
    };
    this.http = new HttpClient(common);
    this.tokenHttp = new HttpClient(common);
    this.auth = new ServiceNowAuthenticator(config.auth, this.tokenHttp, {
      skewSeconds: config.tokenRefreshSkewSeconds,
      ...(options.env ? { env: options.env } : {}),
      ...(options.now ? { now: options.now } : {}),
      ...(options.logger ? { logger: options.logger } : {}),
    });
  }

  /** Any call, authenticated; one more try with a fresh token after a 401. */
  authed<T>(send: (authorization: string) => Promise<T>): Promise<T> {
    return this.auth.send(send, (err) => this.refused(err));
  }

  /** JSON call with Accept and (for writes) Content-Type set, as the instance requires. */
  json(opts: RequestOptions): Promise<unknown> {
    return this.authed((authorization) =>
      this.http.json({ ...opts, headers: { ...opts.headers, authorization } }),
    );
  }

  /**
   * Every row of a paged GET (sysparm_limit/sysparm_offset). Stops on a short page or at
   * X-Total-Count, whichever comes first; ORDERBY in the query keeps pages stable.
   */
  async *pages<T>(path: string, query: Query, schema: z.ZodType<{ result: T[] }>, endpoint: string) {
    const limit = this.config.pageSize;
    for (let offset = 0; ;) {
      const q = { ...query, sysparm_limit: limit, sysparm_offset: offset };
      const res = await this.authed((authorization) =>
        this.http.stream({ method: "GET", path, query: q, headers: { authorization } }),
      );
      const text = (await res.body.setEncoding("utf8").toArray()).join("");
      let body: unknown;
      try {
        body = JSON.parse(text);
      } catch (cause) {
        throw new ServiceNowError("SERVICENOW_RESPONSE_INVALID", `ServiceNow ${endpoint}: body is not JSON`, {
          cause,
        });
      }
      const page = parseResponse(schema, body, endpoint).result;
      yield* page;
      offset += page.length;
      const total = Number(res.headers["x-total-count"]);
      if (page.length < limit || (Number.isFinite(total) && offset >= total)) return;
    }
  }

  private refused(err: HttpStatusError): ServiceNowError {
    const a = this.config.auth;
    const fix =
      a.type === "basic"
        ? `check auth.username (${a.username}) and auth.password`
        : "a freshly issued token was refused too: check the OAuth user's roles and the instance's OAuth setup";
    return new ServiceNowError("SERVICENOW_AUTH_FAILED", `ServiceNow answered 401 Unauthorized; ${fix}`, {
      cause: err,
    });
  }

  async close(): Promise<void> {
    await Promise.all([this.http.close(), this.tokenHttp.close()]);
  }
}
