import { randomBytes } from "node:crypto";
import type { Reply, SimRequest } from "./reply.js";
import type { InstanceState } from "./state.js";

export interface Credentials {
  username: string;
  password: string;
  clientId: string;
  clientSecret: string;
}

export interface OAuthOptions {
  accessTokenSeconds: number;
  /** glide.oauth.inbound.client.credential.grant_type.enabled (off on a default instance). */
  clientCredentialsEnabled: boolean;
}

const denied = (status = 401): Reply => ({
  status,
  json: { error_description: "access_denied", error: "server_error" },
});

/**
 * POST /oauth_token.do: form-encoded only (a JSON body fails, as on a real instance). Grants:
 * password, refresh_token and, when enabled, client_credentials.
 */
export function tokenEndpoint(
  req: SimRequest,
  state: InstanceState,
  creds: Credentials,
  opts: OAuthOptions,
): Reply {
  if (req.method !== "POST") return { status: 405, json: { error: "invalid_request" } };
  if (!(req.headers["content-type"] ?? "").startsWith("application/x-www-form-urlencoded")) {
    return { status: 400, json: { error_description: "invalid_request", error: "server_error" } };
  }
  const form = new URLSearchParams(req.body.toString("utf8"));
  if (form.get("client_id") !== creds.clientId || form.get("client_secret") !== creds.clientSecret) {
    return denied();
  }
  const grant = form.get("grant_type");
  if (grant === "password") {
    if (form.get("username") !== creds.username || form.get("password") !== creds.password) return denied();
    return issue(state, opts, true);
  }
  if (grant === "refresh_token") {
    const refresh = form.get("refresh_token") ?? "";
    const held = state.tokens.get(refresh);
    if (!held || held.kind !== "refresh" || held.expiresAt < Date.now()) return denied();
    return issue(state, opts, false, refresh);
  }
  if (grant === "client_credentials" && opts.clientCredentialsEnabled) return issue(state, opts, false);
  return { status: 400, json: { error_description: "unsupported_grant_type", error: "server_error" } };
}

function issue(state: InstanceState, opts: OAuthOptions, withRefresh: boolean, keepRefresh?: string): Reply {
  const access = randomBytes(24).toString("base64url");
  state.tokens.set(access, { kind: "access", expiresAt: Date.now() + opts.accessTokenSeconds * 1000 });
  state.issued.push(access);
  let refresh = keepRefresh;
  if (withRefresh) {
    refresh = randomBytes(24).toString("base64url");
    state.tokens.set(refresh, { kind: "refresh", expiresAt: Date.now() + 100 * 86_400_000 });
    state.issued.push(refresh);
  }
  return {
    status: 200,
    json: {
      scope: "useraccount",
      token_type: "Bearer",
      expires_in: opts.accessTokenSeconds,
      ...(refresh ? { refresh_token: refresh } : {}),
      access_token: access,
    },
  };
}

/** Whether an API request carries valid basic credentials or a live bearer token. */
export function authenticated(req: SimRequest, state: InstanceState, creds: Credentials): boolean {
  const header = req.headers.authorization ?? "";
  if (header.startsWith("Basic ")) {
    return Buffer.from(header.slice(6), "base64").toString("utf8") === `${creds.username}:${creds.password}`;
  }
  if (header.startsWith("Bearer ")) {
    const held = state.tokens.get(header.slice(7));
    return held?.kind === "access" && held.expiresAt > Date.now();
  }
  return false;
}
