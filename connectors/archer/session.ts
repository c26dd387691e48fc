import { z } from "zod";
import type { HttpClient } from "../../src/core/http/client.js";
import { type Minted, SharedToken } from "../sdk/token.js";
import { LoginResult, reasons, unwrap, ValidationMessage } from "./responses.js";
import { ArcherError } from "./errors.js";

export interface Credentials {
  instance: string;
  username: string;
  userDomain: string;
  password: string;
}

/**
 * One Archer session shared by every worker. Archer has no refresh: a 401 means log in again,
 * and concurrent workers that hit the same 401 share a single re-login (single flight,
 * connectors/sdk/token.ts), so a revoked session never turns into a burst of logins.
 */
export class ArcherSession {
  private readonly token = new SharedToken<string>(() => this.doLogin());

  constructor(
    private readonly http: HttpClient,
    private readonly prefix: string,
    private readonly creds: Credentials,
  ) {}

  /** `send` with the session's Authorization header; after a 401, once more after a new login. */
  send<T>(send: (authorization: string) => Promise<T>): Promise<T> {
    return this.token.send((token) => send(sessionHeader(token)));
  }

  /** A session lives until Archer answers 401: it has no expiry to renew before. */
  private async doLogin(): Promise<Minted<string>> {
    const { instance, username, userDomain, password } = this.creds;
    const who = `Archer login to instance "${instance}" as "${userDomain ? `${userDomain}\\` : ""}${username}"`;
    const raw = await this.http.json({
      method: "POST",
      path: `${this.prefix}/core/security/login`,
      json: { InstanceName: instance, Username: username, UserDomain: userDomain, Password: password },
    });
    const env = LoginEnvelope.safeParse(raw);
    if (env.success && !env.data.IsSuccessful) {
      throw new ArcherError(
        "ARCHER_LOGIN_FAILED",
        `${who} failed: ${reasons(env.data.ValidationMessages)}; check auth.username, auth.password and target.instance`,
      );
    }
    return { token: unwrap(raw, LoginResult, who).SessionToken, renewAt: Infinity };
  }

  /** Ends the session (best effort: an expired session is already gone). */
  async logout(): Promise<void> {
    const token = this.token.clear();
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
