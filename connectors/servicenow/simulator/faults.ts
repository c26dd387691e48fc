import { type FaultKnobs, NO_FAULTS } from "../../sdk/simulator.js";
import { type Reply, type SimRequest, snError } from "./reply.js";

/** A fault scripted for the next request matching a method and a path prefix. */
export type ScriptedFault = "reset-before" | "reset-after" | "503" | "429";

/** What happens to one request: dropped before or after processing, or answered early. */
export interface Decision {
  reset: "before" | "after" | null;
  early: Reply | null;
}

/**
 * The simulator's fault knobs, random (rates) and scripted (the next matching request), plus
 * a blackout that imitates the client process dying: after N more requests, one last request
 * is lost (processed or not) and every later one is dropped unprocessed.
 */
export class FaultInjector {
  knobs: FaultKnobs;
  private readonly scripted: { fault: ScriptedFault; method: string; pathPrefix: string }[] = [];
  private readonly window = { start: Date.now(), used: 0 };
  private blackoutIn: number | null = null;

  constructor(
    knobs: Partial<FaultKnobs> | undefined,
    private readonly random: () => number,
    private readonly count: (key: string) => void,
  ) {
    this.knobs = { ...NO_FAULTS, ...knobs };
  }

  script(fault: ScriptedFault, method: string, pathPrefix: string): void {
    this.scripted.push({ fault, method, pathPrefix });
  }

  /** Lose every request after the next `n` (null ends the blackout). */
  blackoutAfter(n: number | null): void {
    this.blackoutIn = n;
  }

  latencyMs(): number {
    return this.knobs.latencyMs > 0 ? Math.floor(this.random() * this.knobs.latencyMs) : 0;
  }

  decide(req: SimRequest): Decision {
    if (this.blackoutIn !== null) {
      if (this.blackoutIn < 0) return { reset: "before", early: null };
      if (this.blackoutIn-- === 0) return { reset: this.random() < 0.5 ? "before" : "after", early: null };
    }
    const i = this.scripted.findIndex(
      (s) => s.method === req.method && req.url.pathname.startsWith(s.pathPrefix),
    );
    const script = i < 0 ? null : this.scripted.splice(i, 1)[0]!.fault;
    if (script === "reset-before" || script === "reset-after")
      return { reset: script.slice(6) as "before", early: null };
    if (script === "503") return { reset: null, early: this.unavailable(req) };
    if (script === "429") return { reset: null, early: this.tooMany(this.knobs.retryAfterSeconds) };
    if (this.random() < this.knobs.resetRate)
      return { reset: this.random() < 0.5 ? "before" : "after", early: null };
    return { reset: null, early: this.randomEarly(req) };
  }

  private randomEarly(req: SimRequest): Reply | null {
    const k = this.knobs;
    if (k.burst429 > 0) {
      k.burst429--;
      return this.tooMany(k.retryAfterSeconds);
    }
    if (k.ratePerMinute > 0) {
      if (Date.now() - this.window.start >= 60_000)
        Object.assign(this.window, { start: Date.now(), used: 0 });
      if (++this.window.used > k.ratePerMinute) {
        const wait = Math.max(1, Math.ceil((this.window.start + 60_000 - Date.now()) / 1000));
        return this.tooMany(
          wait,
          `Rate limit of ${k.ratePerMinute} requests per minute for REST API exceeded`,
        );
      }
    }
    return this.random() < k.errorRate ? this.unavailable(req) : null;
  }

  /** X-RateLimit-* headers, sent on every answer while a rate limit is configured. */
  rateHeaders(): Record<string, string> {
    if (this.knobs.ratePerMinute <= 0) return {};
    return {
      "x-ratelimit-limit": String(this.knobs.ratePerMinute),
      "x-ratelimit-reset": String(Math.ceil((this.window.start + 60_000) / 1000)),
      "x-ratelimit-rule": "sealgate-simulated-rule",
    };
  }

  private tooMany(retryAfter: number, detail = "Rate limit of requests for REST API exceeded"): Reply {
    this.count("429");
    return { ...snError(429, "Rate limit exceeded", detail), headers: { "retry-after": String(retryAfter) } };
  }

  private unavailable(req: SimRequest): Reply {
    this.count("5xx");
    return snError(503, "Service Unavailable", `The instance could not handle ${req.method} now`);
  }
}
