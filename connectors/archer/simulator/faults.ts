import { setTimeout as sleep } from "node:timers/promises";
import type { FaultKnobs } from "../../sdk/simulator.js";
import { aspnet, type Reply } from "./envelope.js";

/** What happens to one request before (or instead of) Archer handling it. */
export type Verdict = Reply | "reset-before" | "reset-after" | null;

/** A one-shot fault for one route key ("PUT platformapi/core/content"): tests stay deterministic. */
export type Scripted = "reset-before" | "reset-after" | 500 | 429 | (() => void);

/**
 * Fault injection for the simulator: resets (half of them after the request was processed,
 * so the client cannot know whether it took effect), 429 bursts and a per-minute limit with
 * Retry-After, IIS-style 5xx pages, latency and slow uploads. Archer documents no rate limit
 * (UNCONFIRMED), so the limit is off unless a test turns it on.
 */
export class Faults {
  private window = { minute: -1, count: 0 };
  private readonly scripted: { key: string; fault: Scripted }[] = [];

  constructor(
    private knobs: FaultKnobs,
    private readonly count: (key: string) => void,
    private readonly random: () => number = Math.random,
  ) {}

  set(partial: Partial<FaultKnobs>): void {
    this.knobs = { ...this.knobs, ...partial };
  }

  once(key: string, fault: Scripted): void {
    this.scripted.push({ key, fault });
  }

  async before(key: string, isUpload: boolean): Promise<Verdict> {
    const i = this.scripted.findIndex((s) => s.key === key);
    if (i >= 0) {
      const fault = this.scripted.splice(i, 1)[0]?.fault;
      if (typeof fault === "function") fault();
      else if (fault === 500) return this.serverError(500);
      else if (fault === 429) return this.tooMany(this.knobs.retryAfterSeconds);
      else if (fault) return fault;
    }
    const k = this.knobs;
    if (k.resetRate > 0 && this.random() < k.resetRate) {
      this.count("faults.resets");
      return this.random() < 0.5 ? "reset-before" : "reset-after";
    }
    if (k.burst429 > 0) {
      this.knobs = { ...k, burst429: k.burst429 - 1 };
      return this.tooMany(k.retryAfterSeconds);
    }
    if (k.ratePerMinute > 0) {
      const now = Date.now();
      const minute = Math.floor(now / 60_000);
      if (minute !== this.window.minute) this.window = { minute, count: 0 };
      if (++this.window.count > k.ratePerMinute)
        return this.tooMany(Math.ceil((60_000 - (now % 60_000)) / 1000));
    }
    if (k.errorRate > 0 && this.random() < k.errorRate) {
      return this.serverError(this.random() < 0.5 ? 500 : 503);
    }
    if (k.latencyMs > 0) await sleep(Math.floor(this.random() * k.latencyMs));
    if (isUpload && k.slowUploadMs > 0) await sleep(k.slowUploadMs);
    return null;
  }

  private serverError(status: number): Reply {
    this.count("faults.5xx");
    return {
      status,
      body: `<html><head><title>${status} - Server Error</title></head><body><h2>${status} - The server encountered an error.</h2></body></html>`,
      headers: { "content-type": "text/html" },
    };
  }

  private tooMany(seconds: number): Reply {
    this.count("faults.429");
    return { ...aspnet(429, "Too many requests."), headers: { "retry-after": String(seconds) } };
  }
}
