import { createHash, randomBytes, randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import { type FaultKnobs, NO_FAULTS, type SimulatedRecord, type SimulatorHandle } from "../../simulator.js";

/*
 * The reference GRC API: a minimal evidence service with OAuth client credentials, records
 * looked up by correlation, and files by name. It exists so the connector kit can test itself
 * and as the smallest example of a simulator. Faults are injected before a request is handled
 * (5xx, 429, latency) or after it was handled (a reset: the work is done, the answer lost).
 */

export const REFERENCE_FIELDS = ["title", "correlation_id", "decision", "approver", "source"];

export async function startReferenceSimulator(
  opts: { port?: number; host?: string; faults?: Partial<FaultKnobs> } = {},
): Promise<SimulatorHandle> {
  const clientId = "kit-client";
  const clientSecret = `cs-${randomBytes(16).toString("hex")}`;
  let faults: FaultKnobs = { ...NO_FAULTS, ...opts.faults };
  const tokens = new Set<string>();
  const issued: string[] = [];
  const records = new Map<string, SimulatedRecord>();
  const stats: Record<string, number> = {};
  const count = (k: string) => (stats[k] = (stats[k] ?? 0) + 1);

  const send = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
    res.writeHead(status, { "content-type": "application/json", ...headers });
    res.end(JSON.stringify(body));
  };

  async function handle(req: IncomingMessage, res: ServerResponse, body: Buffer): Promise<void> {
    const url = new URL(req.url ?? "/", "http://sim");
    const route = `${req.method} ${url.pathname.replace(/\/records\/[^/]+/, "/records/:id").replace(/\/files\/.+$/, "/files/:name")}`;
    count(route);
    if (req.method === "POST" && url.pathname === "/oauth/token") {
      const p = JSON.parse(body.toString() || "{}") as Record<string, string>;
      if (p.client_id !== clientId || p.client_secret !== clientSecret)
        return send(res, 401, { error: "invalid_client" });
      const token = `tok-${randomBytes(16).toString("hex")}`;
      tokens.add(token);
      issued.push(token);
      count("tokens minted");
      return send(res, 200, { access_token: token, token_type: "Bearer", expires_in: 3600 });
    }
    const auth = /^Bearer (\S+)$/.exec(req.headers.authorization ?? "");
    if (!auth || !tokens.has(auth[1]!)) return send(res, 401, { error: "invalid_token" });
    const m = /^\/api\/records(?:\/([^/]+)(?:\/files(?:\/(.+))?)?)?$/.exec(url.pathname);
    if (req.method === "GET" && url.pathname === "/api/fields")
      return send(res, 200, { items: REFERENCE_FIELDS });
    if (!m) return send(res, 404, { error: "no such route" });
    const [, id, name] = m;
    if (!id && req.method === "GET") {
      const c = url.searchParams.get("correlation");
      const items = [...records.values()].filter((r) => r.correlation === c).map((r) => ({ id: r.id }));
      return send(res, 200, { items });
    }
    if (!id && req.method === "POST") {
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
      records.set(rec.id, rec);
      return send(res, 201, { id: rec.id });
    }
    const rec = id ? records.get(id) : undefined;
    if (!rec) return send(res, 404, { error: "no such record" });
    if (req.method === "GET" && !name) return send(res, 200, { items: rec.files });
    if (req.method === "PUT" && name) {
      if (faults.slowUploadMs) await sleep(faults.slowUploadMs);
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

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      void (async () => {
        if (faults.latencyMs) await sleep(Math.random() * faults.latencyMs);
        if (faults.burst429 > 0) {
          faults.burst429--;
          count("429");
          return send(res, 429, { error: "slow down" }, { "retry-after": String(faults.retryAfterSeconds) });
        }
        if (Math.random() < faults.errorRate) {
          count("5xx injected");
          return send(res, 503, { error: "injected" });
        }
        const lose = Math.random() < faults.resetRate;
        // A lost answer: handle the request, then drop the connection instead of replying.
        const out = lose ? new DiscardResponse(res) : res;
        await handle(req, out as ServerResponse, Buffer.concat(chunks));
        if (lose) {
          count("resets");
          req.socket.destroy();
        }
      })().catch(() => res.destroy());
    });
  });
  await new Promise<void>((resolve) => server.listen(opts.port ?? 0, opts.host ?? "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    credentials: { clientId, clientSecret },
    setFaults: (f) => void (faults = { ...faults, ...f }),
    revokeTokens: () => tokens.clear(),
    records: () => [...records.values()].map((r) => ({ ...r, files: [...r.files] })),
    stats: () => ({ ...stats }),
    secrets: () => [clientSecret, ...issued],
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
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
