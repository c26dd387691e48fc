import type { Logger } from "pino";
import type { HttpClient } from "../../src/core/http/client.js";
import { HttpStatusError } from "../../src/core/http/errors.js";
import { type Minted, SharedToken } from "../sdk/token.js";
import { parseResponse, TokenResponse } from "./responses.js";
import { type RetryOptions, retryWait } from "./retry.js";
import { VantaError } from "./errors.js";

/** The official Vanta MCP server refreshes this long before expiry; so do we. */
const REFRESH_EARLY_MS = 60_000;
const WINDOW_MS = 60_000;

export interface VantaTokensOptions {
  http: HttpClient;
  clientId: string;
  clientSecret: string;
  scope: string;
  mintsPerMinute: number;
  retry: RetryOptions;
  logger?: Logger;
  now?: () => number;
}

/**
 * Vanta allows ONE active token per application: minting revokes the previous token at once,
 * so concurrent mints would break every in-flight request. One manager per destination holds
 * the only token, shares one in-flight mint among all workers, re-mints only when the token a
 * 401 was answered for is still the current one (connectors/sdk/token.ts), and spaces mints to
 * the documented 5/minute.
 */
export class VantaTokens {
  private readonly token: SharedToken<string>;
  private readonly mintedAt: number[] = [];
  private readonly now: () => number;

  constructor(private readonly o: VantaTokensOptions) {
    this.now = o.now ?? Date.now;
    this.token = new SharedToken(() => this.mintWithRetries(), this.now);
  }

  /** A token valid for at least another minute, minting (once, shared) when needed. */
  current(): Promise<string> {
    return this.token.current();
  }

  /** `send` with `Bearer <token>`; after a 401, once more with a replaced token. */
  send<T>(send: (authorization: string) => Promise<T>): Promise<T> {
    return this.token.send((token) => send(`Bearer ${token}`));
  }

  private async mintWithRetries(): Promise<Minted<string>> {
    for (let attempt = 0; ; attempt++) {
      await this.waitForMintSlot();
      this.mintedAt.push(this.now());
      try {
        return await this.mintOnce();
      } catch (err) {
        const delay = retryWait(err, attempt, this.o.retry);
        if (delay === null) throw err;
        this.o.logger?.warn({ attempt: attempt + 1, delayMs: delay }, "Vanta token request failed; retrying");
        await this.o.retry.sleep(delay);
      }
    }
  }

  private async mintOnce(): Promise<Minted<string>> {
    let body: unknown;
    try {
      body = await this.o.http.json({
        method: "POST",
        path: "oauth/token",
        // Each attempt is counted against the 5/minute budget, so the client never retries here.
        retries: 0,
        json: {
          client_id: this.o.clientId,
          client_secret: this.o.clientSecret,
          scope: this.o.scope,
          grant_type: "client_credentials",
        },
      });
    } catch (err) {
      throw authError(err);
    }
    const token = parseResponse(TokenResponse, body, "POST /oauth/token");
    // A minute early, or halfway for a token that lives under two minutes (never every call).
    const lifetime = token.expires_in * 1000;
    this.o.logger?.info({ expiresInS: token.expires_in }, "minted Vanta access token");
    return {
      token: token.access_token,
      renewAt: this.now() + lifetime - Math.min(REFRESH_EARLY_MS, lifetime / 2),
    };
  }

  private async waitForMintSlot(): Promise<void> {
    for (;;) {
      const since = this.now() - WINDOW_MS;
      while (this.mintedAt.length && (this.mintedAt[0] as number) <= since) this.mintedAt.shift();
      if (this.mintedAt.length < this.o.mintsPerMinute) return;
      const wait = (this.mintedAt[0] as number) + WINDOW_MS - this.now() + 1;
      this.o.logger?.warn({ waitMs: wait }, "Vanta token budget for this minute used up; waiting");
      await this.o.retry.sleep(wait);
    }
  }
}

/** Rejected credentials or scope become a config error naming what to fix, never the secret. */
function authError(err: unknown): unknown {
  if (!(err instanceof HttpStatusError) || ![400, 401, 403].includes(err.status)) return err;
  // OAuth errors (RFC 6749 5.2) are {error: "invalid_client", ...}: keep only such a bare code.
  const raw = err.remote.code ?? err.remote.message;
  const code = /^[a-z_]{1,40}$/.test(raw) ? raw : undefined;
  const fix =
    code === "invalid_scope"
      ? "the mapping's target.scope asks for scopes this application lacks; grant them in Vanta or narrow target.scope"
      : "check auth.clientId and the secret auth.clientSecret points to (and that the app is not deleted)";
  return new VantaError(
    "VANTA_AUTH_FAILED",
    `Vanta refused the token request (${err.status}${code ? ` ${code}` : ""}): ${fix}`,
    { cause: err },
  );
}
