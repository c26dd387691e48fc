import { SealgateError } from "../../src/core/errors.js";
import { HttpStatusError } from "../../src/core/http/errors.js";
import { type BackoffPolicy, backoffDelay, isRetryableStatus } from "../../src/core/http/retry.js";

export interface RetryPolicy extends BackoffPolicy {
  sleep: (ms: number) => Promise<unknown>;
}

/**
 * A write the instance cannot de-duplicate (Table API insert, attachment upload). After a
 * transient failure the write may or may not have landed (a reset can come after the
 * instance committed), so: wait as told, ask `landed` whether it did, and write again only
 * if it did not. Non-transient failures are thrown at once.
 */
export async function writeOnce<T, L>(
  policy: RetryPolicy,
  write: () => Promise<T>,
  landed: () => Promise<L | null>,
): Promise<{ written: T } | { landed: L }> {
  for (let attempt = 0; ; attempt++) {
    try {
      return { written: await write() };
    } catch (err) {
      if (attempt >= policy.retries || !transient(err)) throw err;
      const retryAfter = err instanceof HttpStatusError ? err.retryAfterMs : undefined;
      if (retryAfter !== undefined && retryAfter > policy.maxRetryAfterMs) throw err;
      await policy.sleep(retryAfter ?? backoffDelay(attempt, policy));
      const found = await landed();
      if (found !== null) return { landed: found };
    }
  }
}

/** Failures after which the same request may succeed: 408, 429, 5xx, lost connections. */
export function transient(err: unknown): boolean {
  if (err instanceof HttpStatusError) return isRetryableStatus(err.status);
  return err instanceof SealgateError && (err.code === "HTTP_CONNECTION" || err.code === "HTTP_TIMEOUT");
}
