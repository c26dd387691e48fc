import type { Logger } from "pino";
import { resolveSecret } from "../../src/core/secrets.js";
import { SealgateError } from "../../src/errors.js";
import type { HttpClient } from "../../src/http/client.js";
import { HttpStatusError } from "../../src/http/errors.js";
import type { ServiceNowAuth } from "./config.js";
import { parseResponse, TokenResponse } from "./responses.js";

interface Held {
  header: string;
  refreshToken: string | undefined;
  /** Epoch ms after which the token is not used any more (expiry minus skew). */
  renewAt: number;
}

/**
 * The Authorization header for every API call. OAuth tokens are minted form-encoded at
 * /oauth_token.do (the instance rejects JSON there), renewed before they expire, refreshed with
 * the refresh token while it works and re-granted when it does not. Minting is single-flight:
 * concurrent workers share one token. Secret values stay in memory and request bodies only.
 */
export class ServiceNowAuthenticator {
  private held: Held | null = null;
  private minting: Promise<Held> | null = null;
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

  /** The header value to send now; mints or renews a token when needed. */
  async header(): Promise<string> {
    if (this.basic) return this.basic;
    if (this.held && this.now() < this.held.renewAt) return this.held.header;
    this.minting ??= this.mint().finally(() => {
      this.minting = null;
    });
    return (await this.minting).header;
  }

  /**
   * A 401 answered this header: stop using it (the refresh token may still work). Returns
   * whether asking again can help (never for basic auth).
   */
  invalidate(rejected: string): boolean {
    if (this.basic || this.held?.header !== rejected) return !this.basic;
    this.held = { ...this.held, renewAt: 0 };
    return true;
  }

  private async mint(): Promise<Held> {
    const refreshToken = this.held?.refreshToken;
    if (refreshToken && this.auth.type !== "basic") {
      try {
        return await this.grant({ grant_type: "refresh_token", refresh_token: refreshToken });
      } catch (err) {
        if (!(err instanceof SealgateError && err.code === "SERVICENOW_AUTH_FAILED")) throw err;
        this.held = null;
        this.opts.logger?.info("ServiceNow refresh token rejected; requesting a new grant");
      }
    }
    if (this.auth.type === "oauth-password") {
      return this.grant({
        grant_type: "password",
        username: this.auth.username,
        password: this.secrets.password ?? "",
      });
    }
    return this.grant({ grant_type: "client_credentials" });
  }

  private async grant(params: Record<string, string>): Promise<Held> {
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
        throw new SealgateError(
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
    return (this.held = {
      header: `Bearer ${token.access_token}`,
      refreshToken: token.refresh_token ?? this.held?.refreshToken,
      renewAt: this.now() + lifeMs - skewMs,
    });
  }
}
