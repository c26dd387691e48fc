import { SealgateError } from "../../src/core/errors.js";
import { HttpStatusError } from "../../src/core/http/errors.js";
import { backoffDelay, type BackoffPolicy } from "../../src/core/http/retry.js";

/*
 * Retries the shared HTTP client cannot do for Vanta: token mints (each attempt counts
 * against 5 per minute) and writes whose outcome is unknown after a failure (create, upload),
 * where the connector must look before it writes again.
 */

export interface RetryOptions {
  policy: BackoffPolicy;
  /** Wait after a 429 without Retry-After. */
  fallbackMs: number;
  sleep: (ms: number) => Promise<unknown>;
}

/** Milliseconds to wait before trying again after `err`, or null when retrying cannot help. */
export function retryWait(err: unknown, attempt: number, o: RetryOptions): number | null {
  if (attempt >= o.policy.retries) return null;
  if (err instanceof HttpStatusError) {
    if (err.status === 429) {
      const ms = err.retryAfterMs ?? o.fallbackMs;
      return ms > o.policy.maxRetryAfterMs ? null : ms;
    }
    return err.status === 408 || err.status >= 500 ? backoffDelay(attempt, o.policy) : null;
  }
  const code = err instanceof SealgateError ? err.code : undefined;
  return code === "HTTP_CONNECTION" || code === "HTTP_TIMEOUT" ? backoffDelay(attempt, o.policy) : null;
}

/**
 * Run a write that must not happen twice. After a failure that may or may not have taken
 * effect (5xx, 429, reset, timeout) wait, then ask `done` before writing again.
 */
export async function writeUnlessDone(
  write: () => Promise<unknown>,
  done: () => Promise<boolean>,
  o: RetryOptions,
): Promise<unknown> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await write();
    } catch (err) {
      const wait = retryWait(err, attempt, o);
      if (wait === null) throw err;
      await o.sleep(wait);
      if (await done()) return ALREADY_DONE;
    }
  }
}

export const ALREADY_DONE = Symbol("already done");
