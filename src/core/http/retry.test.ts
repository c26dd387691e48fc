import { describe, expect, it } from "vitest";
import {
  backoffDelay,
  DEFAULT_BACKOFF,
  isConnectionError,
  isRetryableStatus,
  parseRetryAfter,
} from "./retry.js";

describe("Retry-After", () => {
  const now = Date.parse("2026-11-21T10:00:00Z");
  it("reads delta-seconds", () => {
    expect(parseRetryAfter("120", now)).toBe(120_000);
    expect(parseRetryAfter(["0"], now)).toBe(0);
  });
  it("reads an HTTP date, and a past date means now", () => {
    expect(parseRetryAfter("Sat, 21 Nov 2026 10:00:30 GMT", now)).toBe(30_000);
    expect(parseRetryAfter("Sat, 21 Nov 2026 09:00:00 GMT", now)).toBe(0);
  });
  it("ignores what it cannot read", () => {
    for (const bad of [undefined, "", "soon", "-5", "1.5", "12abc"])
      expect(parseRetryAfter(bad, now)).toBeUndefined();
  });
});

describe("backoff", () => {
  it("stays within full-jitter bounds and the cap", () => {
    expect(backoffDelay(0, DEFAULT_BACKOFF, () => 0.999)).toBeLessThan(DEFAULT_BACKOFF.baseMs);
    expect(backoffDelay(3, DEFAULT_BACKOFF, () => 0.5)).toBe(DEFAULT_BACKOFF.baseMs * 4);
    expect(backoffDelay(30, DEFAULT_BACKOFF, () => 0.999)).toBeLessThan(DEFAULT_BACKOFF.maxMs);
    expect(backoffDelay(2, DEFAULT_BACKOFF, () => 0)).toBe(0);
  });
});

describe("what is retried", () => {
  it("retries 408, 429 and 5xx only", () => {
    expect([408, 429, 500, 502, 503, 504].every(isRetryableStatus)).toBe(true);
    expect([400, 401, 403, 404, 409, 422].some(isRetryableStatus)).toBe(false);
  });
  it("recognises connection errors, also when wrapped as a cause", () => {
    expect(isConnectionError(Object.assign(new Error("x"), { code: "ECONNRESET" }))).toBe(true);
    expect(
      isConnectionError(
        new Error("outer", { cause: Object.assign(new Error("in"), { code: "UND_ERR_SOCKET" }) }),
      ),
    ).toBe(true);
    expect(isConnectionError(Object.assign(new Error("x"), { code: "ERR_INVALID_ARG_TYPE" }))).toBe(false);
  });
});
