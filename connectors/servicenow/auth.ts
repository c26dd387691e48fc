import type { Logger } from "pino";
import { resolveSecret } from "../../src/core/secrets.js";
import type { HttpClient } from "../../src/core/http/client.js";
import { HttpStatusError } from "../../src/core/http/errors.js";
import { isUnauthorized, type Minted, SharedToken } from "../sdk/token.js";
import type { ServiceNowAuth } from "./config.js";
import { parseResponse, TokenResponse } from "./responses.js";
import { ServiceNowError } from "./errors.js";

interface Held {
  header: string;
  refreshToken: string | undefined;
}

/**
 * The Authorization header for every API call. OAuth tokens are minted form-encoded at
 * /oauth_token.do (the instance rejects JSON there), renewed before they expire, refreshed with
 * the refresh token while it works and re-granted when it does not. Minting is single-flight
 * (connectors/sdk/token.ts): concurrent workers share one token. Secret values stay in memory
 * and request bodies only.
 */
export class ServiceNowAuthenticator {
  private readonly token: SharedToken<Held>;
  /** A refresh token the instance refused: never offered again. */
  private refusedRefresh: string | undefined;
  private readonly basic: string | null;
  private readonly secrets: Record<string, string> = {};

  constructor(
    private readonly auth: ServiceNowAuth,
    private readonly tokenHttp: HttpClient,
    private readonly opts: {
      skewSeconds: number;
      env?: NodeJS.ProcessEnv;
      now?: () => number;
      logger?: Logger;
    },
  ) {
    this.token = new SharedToken(
      (previous) => this.mint(previous),
      () => this.now(),
    );
    const env = opts.env ?? process.env;
    if (auth.type === "basic") {
      const password = resolveSecret(auth.password, "auth.password", env);
      this.basic = `Basic ${Buffer.from(`${auth.username}:${password}`).toString("base64")}`;
      return;
    }
    this.basic = null;
    this.secrets.clientSecret = resolveSecret(auth.clientSecret, "auth.clientSecret", env);
    if (auth.type === "oauth-password") {
      this.secrets.password = resolveSecret(auth.password, "auth.password", env);
    }
  }

  private now(): number {
    return this.opts.now?.() ?? Date.now();
  }

  /**
   * `send` with the Authorization header; after a 401, once more with a fresh token (never for
   * basic auth, where asking again cannot help). A 401 that stays becomes `refused(err)`.
   */
  async send<T>(
    send: (authorization: string) => Promise<T>,
    refused: (err: HttpStatusError) => Error,
  ): Promise<T> {
    try {
      return this.basic ? await send(this.basic) : await this.token.send((held) => send(held.header));
    } catch (err) {
      if (isUnauthorized(err)) throw refused(err);
      throw err;
    }
  }

  private async mint(previous: Held | null): Promise<Minted<Held>> {
    const refreshToken = previous?.refreshToken;
    if (refreshToken && refreshToken !== this.refusedRefresh && this.auth.type !== "basic") {
      try {
        return await this.grant({ grant_type: "refresh_token", refresh_token: refreshToken }, refreshToken);
      } catch (err) {
        if (!(err instanceof ServiceNowError && err.code === "SERVICENOW_AUTH_FAILED")) throw err;
        this.refusedRefresh = refreshToken;
        this.opts.logger?.info("ServiceNow refresh token rejected; requesting a new grant");
      }
    }
    const minted =
      this.auth.type === "oauth-password"
        ? await this.grant({
            grant_type: "password",
            username: this.auth.username,
            password: this.secrets.password ?? "",
          })
        : await this.grant({ grant_type: "client_credentials" });
    this.refusedRefresh = undefined;
    return minted;
  }

  /** One grant; a refresh grant keeps `refreshing` if the answer carries no new refresh token. */
  private async grant(params: Record<string, string>, refreshing?: string): Promise<Minted<Held>> {
    if (this.auth.type === "basic") throw new Error("unreachable: basic auth has no grants");
    const form = new URLSearchParams({
      ...params,
      client_id: this.auth.clientId,
      client_secret: this.secrets.clientSecret ?? "",
    });
    let body: unknown;
    try {
      body = await this.tokenHttp.json({
        method: "POST",
        path: "oauth_token.do",
        body: form.toString(),
        headers: { "content-type": "application/x-www-form-urlencoded" },
      });
    } catch (err) {
      if (err instanceof HttpStatusError && (err.status === 400 || err.status === 401)) {
        const who =
          this.auth.type === "oauth-password"
            ? `client ${this.auth.clientId}, user ${this.auth.username}`
            : `client ${this.auth.clientId}`;
        throw new ServiceNowError(
          "SERVICENOW_AUTH_FAILED",
          `ServiceNow refused the OAuth ${params.grant_type} grant for ${who} (${err.status}); check auth.clientId, auth.clientSecret${this.auth.type === "oauth-password" ? ", auth.username and auth.password" : " and that the client credentials grant is enabled on the instance"}`,
          { cause: err },
        );
      }
      throw err;
    }
    const token = parseResponse(TokenResponse, body, "oauth_token.do");
    const lifeMs = token.expires_in * 1000;
    const skewMs = Math.min(this.opts.skewSeconds * 1000, lifeMs / 5);
    return {
      token: { header: `Bearer ${token.access_token}`, refreshToken: token.refresh_token ?? refreshing },
      renewAt: this.now() + lifeMs - skewMs,
    };
  }
}
