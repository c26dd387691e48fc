import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import type { Logger } from "pino";
import { type FaultKnobs, NO_FAULTS, type SimulatorHandle } from "../../kit/simulator.js";
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
  let faults: FaultKnobs = { ...NO_FAULTS, ...opts.faults };
  let quirks: VantaQuirks = { ...DEFAULT_QUIRKS, ...opts.quirks };
  const windows = { token: [] as number[], api: [] as number[] };

  /** Sliding one-minute window: null when this request fits, else seconds until a slot frees. */
  const admit = (w: number[], limit: number, now: number): number | null => {
    while (w.length && (w[0] as number) <= now - WINDOW_MS) w.shift();
    if (limit > 0 && w.length >= limit)
      return Math.max(1, Math.ceil(((w[0] as number) + WINDOW_MS - now) / 1000));
    w.push(now);
    return null;
  };

  const tooMany = (retryAfterS?: number): Reply => {
    state.count("429");
    return { ...fail(429, "TooManyRequests", "Too many requests"), ...(retryAfterS ? { retryAfterS } : {}) };
  };

  async function route(req: SimRequest): Promise<Reply> {
    const now = Date.now();
    const isToken = req.path === "/oauth/token";
    const limit = isToken ? quirks.tokenRequestsPerMinute : faults.ratePerMinute;
    const wait = admit(isToken ? windows.token : windows.api, limit, now);
    if (wait !== null) return tooMany(wait);
    if (isToken) {
      return req.method === "POST"
        ? token(state, req, { tokenTtlSeconds: quirks.tokenTtlSeconds, now })
        : fail(405, "MethodNotAllowed", "POST only");
    }
    return dispatch(state, req, { now, slowUploadMs: faults.slowUploadMs, resubmit: quirks.resubmit });
  }

  async function handle(req: IncomingMessage, res: ServerResponse) {
    const url = new URL(req.url ?? "/", "http://simulator");
    const key = routeKey(req.method ?? "GET", url.pathname);
    state.count(key);
    const body = await readBody(req);
    if (faults.latencyMs > 0) await sleep(Math.random() * faults.latencyMs);
    // A reset either loses the request (before) or only its answer (after: the write happened).
    let reset = Math.random() < faults.resetRate ? (Math.random() < 0.5 ? "before" : "after") : null;
    const lose = quirks.loseAnswers[key] ?? 0;
    if (lose > 0) {
      quirks = { ...quirks, loseAnswers: { ...quirks.loseAnswers, [key]: lose - 1 } };
      reset = "after";
    }
    if (reset === "before" || body === null) return destroy(req, body === null ? null : "before");
    let reply: Reply;
    if (faults.burst429 > 0) {
      faults = { ...faults, burst429: faults.burst429 - 1 };
      reply = tooMany();
    } else if (Math.random() < faults.errorRate) {
      state.count("5xx");
      reply = fail(Math.random() < 0.5 ? 500 : 503, "InternalServerError", "simulated failure");
    } else {
      reply = await route({
        method: req.method ?? "GET",
        path: url.pathname,
        query: url.searchParams,
        headers: req.headers,
        body,
      });
    }
    if (reset === "after") return destroy(req, "after");
    send(res, reply);
  }

  function send(res: ServerResponse, raw: Reply) {
    const reply = { ...shapeError(raw, quirks.errorShape), retryAfterS: raw.retryAfterS };
    const headers: Record<string, string> = {};
    if (reply.status === 429 && quirks.retryAfterHeader)
      headers["retry-after"] = String(reply.retryAfterS ?? faults.retryAfterSeconds);
    const payload = reply.bytes ?? Buffer.from(JSON.stringify(reply.json ?? {}));
    headers["content-type"] = reply.bytes
      ? (reply.contentType ?? "application/octet-stream")
      : "application/json";
    res.writeHead(reply.status, headers).end(payload);
  }

  function destroy(req: IncomingMessage, when: "before" | "after" | null) {
    if (when) state.count(`reset-${when}`);
    req.socket.destroy();
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      opts.logger?.error({ err }, "Vanta simulator failed a request");
      if (!res.headersSent) send(res, fail(500, "InternalServerError", "simulator bug"));
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
    setFaults: (f) => void (faults = { ...faults, ...f }),
    setQuirks: (q) => void (quirks = { ...quirks, ...q }),
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
