import { randomBytes } from "node:crypto";
import { z } from "zod";
import { aspnet, fail, ok, type Reply } from "./envelope.js";

const LoginBody = z.object({
  InstanceName: z.string(),
  Username: z.string(),
  UserDomain: z.string().nullish(),
  Password: z.string(),
});

/**
 * Archer sessions: login with instance, user and password returns a SessionToken sent back as
 * `Authorization: Archer session-id="..."` (quoted or not: both appear in the field). Failed
 * logins answer HTTP 200 with IsSuccessful false, and never echo the password.
 */
export class Sessions {
  readonly issued: string[] = [];
  private readonly live = new Map<string, number>();

  constructor(
    private readonly creds: Record<string, string>,
    private readonly idleMs: number,
  ) {}

  login(body: unknown): Reply {
    const parsed = LoginBody.safeParse(body);
    if (!parsed.success)
      return fail(
        400,
        "InvalidRequest",
        "InstanceName, Username and Password are required.",
        "RequestValidator",
      );
    const b = parsed.data;
    if (
      b.InstanceName !== this.creds.instance ||
      b.Username !== this.creds.username ||
      b.Password !== this.creds.password
    ) {
      return fail(200, "LoginNotValid", "Invalid credentials or instance name.", "LoginValidator");
    }
    const token = randomBytes(16).toString("hex").toUpperCase();
    this.issued.push(token);
    this.live.set(token, Date.now());
    return ok({
      SessionToken: token,
      InstanceName: b.InstanceName,
      UserId: 212,
      ContextType: 0,
      UserConfig: { TimeZoneId: "UTC" },
    });
  }

  /** The session named by the Authorization header, if it is live (and touches it). */
  check(header: string | undefined): string | null {
    const m = /^Archer session-id="?([^"\s]+)"?$/i.exec(header ?? "");
    const token = m?.[1];
    if (!token) return null;
    const last = this.live.get(token);
    if (last === undefined) return null;
    if (this.idleMs > 0 && Date.now() - last > this.idleMs) {
      this.live.delete(token);
      return null;
    }
    this.live.set(token, Date.now());
    return token;
  }

  /** Logout names the session in the body ({Value}); UNCONFIRMED whether the header is needed. */
  logout(session: string | null, body: unknown): Reply {
    const value = (body as { Value?: unknown } | undefined)?.Value;
    const token = typeof value === "string" ? value : session;
    if (!token || !this.live.has(token))
      return aspnet(401, "Authorization has been denied for this request.");
    this.live.delete(token);
    return ok(null);
  }

  revokeAll(): void {
    this.live.clear();
  }

  get liveCount(): number {
    return this.live.size;
  }
}
