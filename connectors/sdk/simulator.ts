import type { Logger } from "pino";

/*
 * What every destination simulator offers tests and `sealgate simulate`: a real HTTP server
 * on loopback, fault knobs an engineer can turn at run time, and an inspection view of what
 * the "vendor" now holds, so tests can prove exactly-once delivery and byte equality.
 */

export interface FaultKnobs {
  /** Extra latency added to every response, in ms (uniform 0..latencyMs). */
  latencyMs: number;
  /** Probability (0..1) that a request is answered with a 5xx before it is processed. */
  errorRate: number;
  /** Probability (0..1) that the socket is destroyed without a response. */
  resetRate: number;
  /** The next N requests get 429 with Retry-After (vendor's own format). */
  burst429: number;
  /** Seconds to put in Retry-After on 429. */
  retryAfterSeconds: number;
  /** Extra ms per upload request (slow uploads). */
  slowUploadMs: number;
  /** Requests per minute before 429, or 0 for none (the vendor's documented limit in tests). */
  ratePerMinute: number;
}

export const NO_FAULTS: FaultKnobs = {
  latencyMs: 0,
  errorRate: 0,
  resetRate: 0,
  burst429: 0,
  retryAfterSeconds: 1,
  slowUploadMs: 0,
  ratePerMinute: 0,
};

/** One remote record as the simulator holds it, in vendor-neutral terms. */
export interface SimulatedRecord {
  id: string;
  /** The correlation value the record carries (digest), if any. */
  correlation: string | null;
  fields: Record<string, unknown>;
  files: { name: string; size: number; sha256: string }[];
}

export interface SimulatorHandle {
  /** Base URL to put in the destination's config. */
  readonly url: string;
  /** Credentials the simulator accepts, shaped like the connector's config auth section. */
  readonly credentials: Record<string, string>;
  /** Change fault knobs at run time (merged). */
  setFaults(faults: Partial<FaultKnobs>): void;
  /** Invalidate every issued token/session now (token revocation). */
  revokeTokens(): void;
  /** Everything the simulated vendor holds. */
  records(): SimulatedRecord[];
  /** Counters: requests by route, 429s, 5xx injected, resets, tokens minted. */
  stats(): Record<string, number>;
  /** Every secret the simulator issued or accepted (tokens, session ids), for log scans. */
  secrets(): string[];
  close(): Promise<void>;
}

/** How to start a simulator: loopback, port 0 = any free port. */
export interface SimulatorOptions {
  port?: number;
  host?: string;
  faults?: Partial<FaultKnobs>;
  logger?: Logger;
}

/*
 * What connectors/<kind>/simulator/index.ts exports, registered in connectors/simulators.ts.
 * Kept apart from the ConnectorModule so the runtime never loads a simulator: only
 * `sealgate simulate` (on demand), the dev tools and the tests do.
 */
export interface SimulatorModule {
  kind: string;
  /** Start this vendor's simulator. */
  start(opts: SimulatorOptions): Promise<SimulatorHandle>;
}
