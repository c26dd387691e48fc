import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import type { Logger } from "pino";
import { type FaultKnobs, NO_FAULTS, type SimulatorHandle } from "../../sdk/simulator.js";
import { dispatch } from "./dispatch.js";
import { type ErrorShape, fail, type Reply, type SimRequest, shapeError, token } from "./routes.js";
import { VantaState } from "./state.js";

/** Vanta behaviours the public docs leave open, or that tests need to shorten. */
export interface VantaQuirks {
  /** Send Retry-After with 429 (UNCONFIRMED upstream: both behaviours must work). */
  retryAfterHeader: boolean;
  tokenTtlSeconds: number;
  /** Token endpoint limit (documented: 5 per minute). */
  tokenRequestsPerMinute: number;
  /** Answer to a second submit: "ok" (no-op) or "reject" (422); undocumented upstream. */
  resubmit: "ok" | "reject";
  /** Body of API errors (UNCONFIRMED upstream; the client must read status codes only). */
  errorShape: ErrorShape;
  /** Route key as in stats() ("POST /v1/documents") -> answers to lose after the write took effect. */
  loseAnswers: Record<string, number>;
}

export const DEFAULT_QUIRKS: VantaQuirks = {
  retryAfterHeader: true,
  tokenTtlSeconds: 3600,
  tokenRequestsPerMinute: 5,
  resubmit: "ok",
  errorShape: "name-message",
  loseAnswers: {},
};

export interface VantaSimulatorHandle extends SimulatorHandle {
  /** The one OAuth application the tenant has, shaped like the config's auth section. */
  readonly credentials: { clientId: string; clientSecret: string };
  setQuirks(quirks: Partial<VantaQuirks>): void;
  /** The tenant itself, for tests that seed documents or delete uploads. */
  readonly state: VantaState;
}

const MAX_BODY = 64 * 1024 * 1024;
const WINDOW_MS = 60_000;

/** The running tenant's parts, which the request path below reads and updates. */
interface Tenant {
  state: VantaState;
  faults: FaultKnobs;
  quirks: VantaQuirks;
  /** Request times in the last minute, for the token endpoint and the API. */
  windows: { token: number[]; api: number[] };
}

export async function startVantaSimulator(
  opts: {
    port?: number;
    host?: string;
    faults?: Partial<FaultKnobs>;
    quirks?: Partial<VantaQuirks>;
    logger?: Logger;
  } = {},
): Promise<VantaSimulatorHandle> {
  const state = new VantaState();
  const t: Tenant = {
    state,
    faults: { ...NO_FAULTS, ...opts.faults },
    quirks: { ...DEFAULT_QUIRKS, ...opts.quirks },
    windows: { token: [], api: [] },
  };
  const server = createServer((req, res) => {
    handle(t, req, res).catch((err: unknown) => {
      opts.logger?.error({ err }, "Vanta simulator failed a request");
      if (!res.headersSent) send(t, res, fail(500, "InternalServerError", "simulator bug"));
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port ?? 0, opts.host ?? "127.0.0.1", resolve);
  });
  const { address, port } = server.address() as AddressInfo;
  const host = address.includes(":") ? `[${address}]` : address;

  return {
    url: `http://${host}:${port}`,
    credentials: { clientId: state.clientId, clientSecret: state.clientSecret },
    state,
    setFaults: (f) => void (t.faults = { ...t.faults, ...f }),
    setQuirks: (q) => void (t.quirks = { ...t.quirks, ...q }),
    revokeTokens: () => state.revokeAll(),
    records: () => state.records(),
    stats: () => Object.fromEntries(state.counters),
    secrets: () => [state.clientSecret, ...state.issued],
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Sliding one-minute window: null when this request fits, else seconds until a slot frees. */
function admit(w: number[], limit: number, now: number): number | null {
  while (w.length && (w[0] as number) <= now - WINDOW_MS) w.shift();
  if (limit > 0 && w.length >= limit)
    return Math.max(1, Math.ceil(((w[0] as number) + WINDOW_MS - now) / 1000));
  w.push(now);
  return null;
}

function tooMany(t: Tenant, retryAfterS?: number): Reply {
  t.state.count("429");
  return { ...fail(429, "TooManyRequests", "Too many requests"), ...(retryAfterS ? { retryAfterS } : {}) };
}

/** The route table: each endpoint's rate limit, then the token endpoint or the API. */
async function route(t: Tenant, req: SimRequest): Promise<Reply> {
  const now = Date.now();
  const isToken = req.path === "/oauth/token";
  const limit = isToken ? t.quirks.tokenRequestsPerMinute : t.faults.ratePerMinute;
  const wait = admit(isToken ? t.windows.token : t.windows.api, limit, now);
  if (wait !== null) return tooMany(t, wait);
  if (isToken) {
    return req.method === "POST"
      ? token(t.state, req, { tokenTtlSeconds: t.quirks.tokenTtlSeconds, now })
      : fail(405, "MethodNotAllowed", "POST only");
  }
  return dispatch(t.state, req, { now, slowUploadMs: t.faults.slowUploadMs, resubmit: t.quirks.resubmit });
}

/** One request through the faults: latency, a reset before or after, a 429 burst or a 5xx, else routed. */
async function handle(t: Tenant, req: IncomingMessage, res: ServerResponse) {
  const url = new URL(req.url ?? "/", "http://simulator");
  const key = routeKey(req.method ?? "GET", url.pathname);
  t.state.count(key);
  const body = await readBody(req);
  if (t.faults.latencyMs > 0) await sleep(Math.random() * t.faults.latencyMs);
  // A reset either loses the request (before) or only its answer (after: the write happened).
  let reset = Math.random() < t.faults.resetRate ? (Math.random() < 0.5 ? "before" : "after") : null;
  const lose = t.quirks.loseAnswers[key] ?? 0;
  if (lose > 0) {
    t.quirks = { ...t.quirks, loseAnswers: { ...t.quirks.loseAnswers, [key]: lose - 1 } };
    reset = "after";
  }
  if (reset === "before" || body === null) return destroy(t, req, body === null ? null : "before");
  let reply: Reply;
  if (t.faults.burst429 > 0) {
    t.faults = { ...t.faults, burst429: t.faults.burst429 - 1 };
    reply = tooMany(t);
  } else if (Math.random() < t.faults.errorRate) {
    t.state.count("5xx");
    reply = fail(Math.random() < 0.5 ? 500 : 503, "InternalServerError", "simulated failure");
  } else {
    reply = await route(t, {
      method: req.method ?? "GET",
      path: url.pathname,
      query: url.searchParams,
      headers: req.headers,
      body,
    });
  }
  if (reset === "after") return destroy(t, req, "after");
  send(t, res, reply);
}

function send(t: Tenant, res: ServerResponse, raw: Reply) {
  const reply = { ...shapeError(raw, t.quirks.errorShape), retryAfterS: raw.retryAfterS };
  const headers: Record<string, string> = {};
  if (reply.status === 429 && t.quirks.retryAfterHeader)
    headers["retry-after"] = String(reply.retryAfterS ?? t.faults.retryAfterSeconds);
  const payload = reply.bytes ?? Buffer.from(JSON.stringify(reply.json ?? {}));
  headers["content-type"] = reply.bytes
    ? (reply.contentType ?? "application/octet-stream")
    : "application/json";
  res.writeHead(reply.status, headers).end(payload);
}

function destroy(t: Tenant, req: IncomingMessage, when: "before" | "after" | null) {
  if (when) t.state.count(`reset-${when}`);
  req.socket.destroy();
}

/** Stats key of a request: ids replaced, so counts add up per endpoint. */
export function routeKey(method: string, path: string): string {
  return `${method} ${path.replace(/^\/v1\/documents\/[^/]+/, "/v1/documents/:id").replace(/uploads\/[^/]+\/media$/, "uploads/:id/media")}`;
}

/** The whole body, or null when it exceeds the cap (the socket is then dropped). */
async function readBody(req: IncomingMessage): Promise<Buffer | null> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY) return null;
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}
