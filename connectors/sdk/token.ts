import { HttpStatusError } from "../../src/core/http/errors.js";

/** A credential from one login, and when to stop using it (epoch ms; Infinity: until a 401). */
export interface Minted<T> {
  token: T;
  renewAt: number;
}

/**
 * The one credential a destination's workers share. A login is single-flight: callers that
 * need a token while one is being fetched wait for that login instead of starting their own,
 * so concurrency never turns into a burst of logins (Vanta even revokes the previous token on
 * each one). A token is renewed before `renewAt`; a request answered 401 is sent once more
 * with a fresh token, and a second 401 is the caller's error.
 *
 * `login` gets the token it replaces (null at first), e.g. for its refresh token.
 */
export class SharedToken<T> {
  private held: Minted<T> | null = null;
  private pending: Promise<T> | null = null;

  constructor(
    private readonly login: (previous: T | null) => Promise<Minted<T>>,
    private readonly now: () => number = Date.now,
  ) {}

  /** A token to send now: the held one while it is fresh, else the result of one shared login. */
  current(): Promise<T> {
    const held = this.held;
    if (held && this.now() < held.renewAt) return Promise.resolve(held.token);
    return this.renew();
  }

  /**
   * `rejected` was answered 401: log in again, unless another caller already replaced it.
   * The rejected token stays readable to `login` (its refresh token may still work).
   */
  replace(rejected: T): Promise<T> {
    if (this.held && this.held.token !== rejected) return this.current();
    if (this.held) this.held = { ...this.held, renewAt: -Infinity };
    return this.renew();
  }

  /** `send` with the current token; after a 401, once more with a fresh one. */
  async send<R>(send: (token: T) => Promise<R>): Promise<R> {
    const first = await this.current();
    try {
      return await send(first);
    } catch (err) {
      if (!isUnauthorized(err)) throw err;
      return send(await this.replace(first));
    }
  }

  /** Forget the token, returning it if it was still in use (to log it out). */
  clear(): T | null {
    const held = this.held;
    this.held = null;
    return held && this.now() < held.renewAt ? held.token : null;
  }

  private renew(): Promise<T> {
    this.pending ??= this.login(this.held?.token ?? null)
      .then((minted) => {
        this.held = minted;
        return minted.token;
      })
      .finally(() => {
        this.pending = null;
      });
    return this.pending;
  }
}

export function isUnauthorized(err: unknown): err is HttpStatusError {
  return err instanceof HttpStatusError && err.status === 401;
}
