import { z } from "zod";
import { SealgateError } from "../../src/errors.js";
import type { HttpClient } from "../../src/http/client.js";
import { LoginResult, reasons, unwrap, ValidationMessage } from "./responses.js";

export interface Credentials {
  instance: string;
  username: string;
  userDomain: string;
  password: string;
}

/**
 * One Archer session shared by every worker. Archer has no refresh: a 401 means log in again,
 * and concurrent workers that hit the same 401 share a single re-login (single flight), so a
 * revoked session never turns into a burst of logins.
 */
export class ArcherSession {
  private token: string | null = null;
  private pending: Promise<string> | null = null;

  constructor(
    private readonly http: HttpClient,
    private readonly prefix: string,
    private readonly creds: Credentials,
  ) {}

  /** The current session token, logging in first if there is none. */
  current(): Promise<string> {
    return this.token ? Promise.resolve(this.token) : this.login();
  }

  /** Called after a 401 with the token that failed; only the first caller logs in again. */
  renew(stale: string): Promise<string> {
    if (this.token && this.token !== stale) return Promise.resolve(this.token);
    this.token = null;
    return this.login();
  }

  private login(): Promise<string> {
    this.pending ??= this.doLogin().finally(() => {
      this.pending = null;
    });
    return this.pending;
  }

  private async doLogin(): Promise<string> {
    const { instance, username, userDomain, password } = this.creds;
    const who = `Archer login to instance "${instance}" as "${userDomain ? `${userDomain}\\` : ""}${username}"`;
    const raw = await this.http.json({
      method: "POST",
      path: `${this.prefix}/core/security/login`,
      json: { InstanceName: instance, Username: username, UserDomain: userDomain, Password: password },
    });
    const env = LoginEnvelope.safeParse(raw);
    if (env.success && !env.data.IsSuccessful) {
      throw new SealgateError(
        "ARCHER_LOGIN_FAILED",
        `${who} failed: ${reasons(env.data.ValidationMessages)}; check auth.username, auth.password and target.instance`,
      );
    }
    this.token = unwrap(raw, LoginResult, who).SessionToken;
    return this.token;
  }

  /** Ends the session (best effort: an expired session is already gone). */
  async logout(): Promise<void> {
    const token = this.token;
    this.token = null;
    if (!token) return;
    await this.http.json({
      method: "POST",
      path: `${this.prefix}/core/security/logout`,
      headers: { authorization: sessionHeader(token) },
      json: { Value: token },
      retries: 0,
    });
  }
}

const LoginEnvelope = z.looseObject({
  IsSuccessful: z.boolean(),
  ValidationMessages: z.array(ValidationMessage).nullish(),
});

export function sessionHeader(token: string): string {
  return `Archer session-id="${token}"`;
}
