import { createHash, randomBytes, randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import {
  type FaultKnobs,
  NO_FAULTS,
  type SimulatedRecord,
  type SimulatorHandle,
} from "../../sdk/simulator.js";

/*
 * The reference GRC API: a minimal evidence service with OAuth client credentials, records
 * looked up by correlation, and files by name. It exists so the connector kit can test itself
 * and as the smallest example of a simulator. Faults are injected before a request is handled
 * (5xx, 429, latency) or after it was handled (a reset: the work is done, the answer lost).
 */

export const REFERENCE_FIELDS = ["title", "correlation_id", "decision", "approver", "source"];

/** The service's parts, which the request path below reads and updates. */
interface Service {
  clientId: string;
  clientSecret: string;
  faults: FaultKnobs;
  tokens: Set<string>;
  /** Every token ever minted, for secrets(). */
  issued: string[];
  records: Map<string, SimulatedRecord>;
  stats: Record<string, number>;
}

export async function startReferenceSimulator(
  opts: { port?: number; host?: string; faults?: Partial<FaultKnobs> } = {},
): Promise<SimulatorHandle> {
  const s: Service = {
    clientId: "kit-client",
    clientSecret: `cs-${randomBytes(16).toString("hex")}`,
    faults: { ...NO_FAULTS, ...opts.faults },
    tokens: new Set<string>(),
    issued: [],
    records: new Map<string, SimulatedRecord>(),
    stats: {},
  };
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      withFaults(s, req, res, Buffer.concat(chunks)).catch(() => res.destroy());
    });
  });
  await new Promise<void>((resolve) => server.listen(opts.port ?? 0, opts.host ?? "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    credentials: { clientId: s.clientId, clientSecret: s.clientSecret },
    setFaults: (f) => void (s.faults = { ...s.faults, ...f }),
    revokeTokens: () => s.tokens.clear(),
    records: () => [...s.records.values()].map((r) => ({ ...r, files: [...r.files] })),
    stats: () => ({ ...s.stats }),
    secrets: () => [s.clientSecret, ...s.issued],
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

const count = (s: Service, k: string) => (s.stats[k] = (s.stats[k] ?? 0) + 1);

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) {
  res.writeHead(status, { "content-type": "application/json", ...headers });
  res.end(JSON.stringify(body));
}

/** Faults before the request is handled (latency, 429, 5xx) or after (a reset: the answer lost). */
async function withFaults(s: Service, req: IncomingMessage, res: ServerResponse, body: Buffer) {
  if (s.faults.latencyMs) await sleep(Math.random() * s.faults.latencyMs);
  if (s.faults.burst429 > 0) {
    s.faults.burst429--;
    count(s, "429");
    return send(res, 429, { error: "slow down" }, { "retry-after": String(s.faults.retryAfterSeconds) });
  }
  if (Math.random() < s.faults.errorRate) {
    count(s, "5xx injected");
    return send(res, 503, { error: "injected" });
  }
  const lose = Math.random() < s.faults.resetRate;
  // A lost answer: handle the request, then drop the connection instead of replying.
  const out = lose ? new DiscardResponse(res) : res;
  await handle(s, req, out as ServerResponse, body);
  if (lose) {
    count(s, "resets");
    req.socket.destroy();
  }
}

/** The route table: the token endpoint, then the field list and the records API behind a token. */
async function handle(s: Service, req: IncomingMessage, res: ServerResponse, body: Buffer): Promise<void> {
  const url = new URL(req.url ?? "/", "http://sim");
  const route = `${req.method} ${url.pathname.replace(/\/records\/[^/]+/, "/records/:id").replace(/\/files\/.+$/, "/files/:name")}`;
  count(s, route);
  if (req.method === "POST" && url.pathname === "/oauth/token") return mintToken(s, res, body);
  const auth = /^Bearer (\S+)$/.exec(req.headers.authorization ?? "");
  if (!auth || !s.tokens.has(auth[1]!)) return send(res, 401, { error: "invalid_token" });
  const m = /^\/api\/records(?:\/([^/]+)(?:\/files(?:\/(.+))?)?)?$/.exec(url.pathname);
  if (req.method === "GET" && url.pathname === "/api/fields")
    return send(res, 200, { items: REFERENCE_FIELDS });
  if (!m) return send(res, 404, { error: "no such route" });
  const [, id, name] = m;
  if (!id && req.method === "GET") {
    const c = url.searchParams.get("correlation");
    const items = [...s.records.values()].filter((r) => r.correlation === c).map((r) => ({ id: r.id }));
    return send(res, 200, { items });
  }
  if (!id && req.method === "POST") return createRecord(s, res, body);
  const rec = id ? s.records.get(id) : undefined;
  if (!rec) return send(res, 404, { error: "no such record" });
  if (req.method === "GET" && !name) return send(res, 200, { items: rec.files });
  if (req.method === "PUT" && name) {
    if (s.faults.slowUploadMs) await sleep(s.faults.slowUploadMs);
    const file = {
      name: decodeURIComponent(name),
      size: body.length,
      sha256: createHash("sha256").update(body).digest("hex"),
    };
    // Every upload is kept, also one of a name already there: duplicates must be visible.
    rec.files.push(file);
    return send(res, 201, file);
  }
  return send(res, 405, { error: "method not allowed" });
}

/** OAuth client credentials: a fresh bearer token for the one known client. */
function mintToken(s: Service, res: ServerResponse, body: Buffer) {
  const p = JSON.parse(body.toString() || "{}") as Record<string, string>;
  if (p.client_id !== s.clientId || p.client_secret !== s.clientSecret)
    return send(res, 401, { error: "invalid_client" });
  const token = `tok-${randomBytes(16).toString("hex")}`;
  s.tokens.add(token);
  s.issued.push(token);
  count(s, "tokens minted");
  return send(res, 200, { access_token: token, token_type: "Bearer", expires_in: 3600 });
}

function createRecord(s: Service, res: ServerResponse, body: Buffer) {
  const p = JSON.parse(body.toString()) as { correlation?: string; fields?: Record<string, unknown> };
  if (typeof p.correlation !== "string") return send(res, 400, { error: "correlation is required" });
  const unknown = Object.keys(p.fields ?? {}).filter((f) => !REFERENCE_FIELDS.includes(f));
  if (unknown.length) return send(res, 400, { error: `unknown fields: ${unknown.join(", ")}` });
  const rec: SimulatedRecord = {
    id: randomUUID(),
    correlation: p.correlation,
    fields: p.fields ?? {},
    files: [],
  };
  s.records.set(rec.id, rec);
  return send(res, 201, { id: rec.id });
}

/** Swallows a response that is going to be lost. */
class DiscardResponse {
  constructor(readonly res: ServerResponse) {}
  writeHead() {
    return this;
  }
  end() {
    return this;
  }
}
