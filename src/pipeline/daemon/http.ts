import { createHash, timingSafeEqual } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import type { AddressInfo } from "node:net";
import { pipeline } from "node:stream/promises";
import { CHECKPOINTS, ENTRIES, type LedgerReader, type Line } from "../../evidence/ledger/ledger.js";
import type { Registry } from "prom-client";

/*
 * The daemon's HTTP face on node:http: health, readiness, metrics, the webhook route, and the
 * ledger read-only (/ledger/entries.log, /ledger/checkpoints.log) so `sealgate verify BUNDLE
 * --log URL` can prove an old bundle's checkpoint consistent with today's log. The ledger holds
 * digests only, and publishing it is what makes a rewrite detectable. With an access token,
 * /metrics, /ledger/* and POST /events (events-route.ts: a person's signed event handed over
 * while the daemon holds the ledger) want it as a bearer token; health stays open for probes,
 * and the webhook has its own signature. HTTPS when given a certificate. Nothing here holds state; the daemon
 * passes in what each route answers.
 */

export interface Routes {
  ready: () => Promise<string[]>;
  registry: Registry;
  webhook?: { path: string; handle: (req: IncomingMessage, res: ServerResponse) => void };
  /** The ledger served read-only under /ledger/, whatever backend holds it. */
  ledger?: LedgerReader;
  /** POST /events: a signed workflow event to append (events-route.ts). */
  events?: (req: IncomingMessage, res: ServerResponse) => void;
  /** When set, /metrics, /ledger/* and /events answer 401 without `Authorization: Bearer <accessToken>`. */
  accessToken?: string;
}

const guarded = (path: string) =>
  path === "/metrics" || path === "/events" || path === "/ledger" || path.startsWith("/ledger/");

/** Constant time whatever the lengths: both sides are hashed to 32 bytes before comparing. */
function bearerMatches(req: IncomingMessage, token: string): boolean {
  const header = req.headers.authorization ?? "";
  if (!/^bearer /i.test(header)) return false;
  const digest = (s: string) => createHash("sha256").update(s).digest();
  return timingSafeEqual(digest(header.slice(7).trim()), digest(token));
}

/** RFC 6750: say a bearer token is wanted, and whether the one sent was wrong. */
const unauthorized = (req: IncomingMessage, res: ServerResponse) =>
  void res
    .writeHead(401, {
      "content-type": "text/plain; charset=utf-8",
      "www-authenticate": `Bearer realm="sealgate"${req.headers.authorization ? ', error="invalid_token"' : ""}`,
    })
    .end("send Authorization: Bearer <token>, the token daemon.http.accessToken names\n");

const LEDGER_LOGS = new Map<string, (l: LedgerReader) => AsyncIterable<Line[]>>([
  [`/ledger/${ENTRIES}`, (l) => l.entryLines()],
  [`/ledger/${CHECKPOINTS}`, (l) => l.checkpointLines()],
]);

const NEWLINE = Buffer.from("\n");

/**
 * A log as it is now, byte for byte as stored: its lines as the reader gives them, unchecked
 * (a torn last line goes out torn, for the client to judge), each complete one with its newline.
 * Chunked: the length is known only once the reader has read it.
 */
async function sendLedgerLog(res: ServerResponse, lines: AsyncIterable<Line[]>, head: boolean) {
  res.writeHead(200, { "content-type": "text/plain; charset=utf-8", "cache-control": "no-store" });
  if (head) return void res.end();
  await pipeline(async function* () {
    for await (const batch of lines)
      yield Buffer.concat(batch.flatMap(({ line, complete }) => (complete ? [line, NEWLINE] : [line])));
  }, res);
}

const text = (res: ServerResponse, status: number, body: string, type = "text/plain; charset=utf-8") =>
  void res.writeHead(status, { "content-type": type }).end(body);

/** The daemon's server: HTTPS when `tls` holds a PEM certificate chain and key, else plain HTTP. */
export function createDaemonServer(routes: Routes, tls?: { cert: Buffer; key: Buffer }): Server {
  const handler = (req: IncomingMessage, res: ServerResponse) => {
    const path = new URL(req.url ?? "/", "http://daemon").pathname;
    const method = req.method ?? "GET";
    const route = async () => {
      if (routes.webhook && path === routes.webhook.path) {
        if (method !== "POST") return text(res, 405, "use POST\n");
        return routes.webhook.handle(req, res);
      }
      if (routes.accessToken && guarded(path) && !bearerMatches(req, routes.accessToken))
        return unauthorized(req, res);
      if (routes.events && path === "/events") {
        if (method !== "POST") return text(res, 405, "use POST\n");
        return routes.events(req, res);
      }
      if (method !== "GET" && method !== "HEAD") return text(res, 405, "use GET\n");
      switch (path) {
        case "/healthz":
          return text(res, 200, "ok\n");
        case "/readyz": {
          const reasons = await routes.ready();
          return reasons.length === 0 ? text(res, 200, "ready\n") : text(res, 503, `${reasons.join("\n")}\n`);
        }
        case "/metrics":
          return text(res, 200, await routes.registry.metrics(), routes.registry.contentType);
        default: {
          const log = LEDGER_LOGS.get(path);
          if (log && routes.ledger) return sendLedgerLog(res, log(routes.ledger), method === "HEAD");
          return text(res, 404, "not found\n");
        }
      }
    };
    route().catch((err: unknown) => {
      if (!res.headersSent)
        text(res, 500, `internal error: ${err instanceof Error ? err.message : String(err)}\n`);
      else res.destroy();
    });
  };
  return tls ? createHttpsServer({ cert: tls.cert, key: tls.key }, handler) : createServer(handler);
}

export async function listen(server: Server, host: string, port: number): Promise<AddressInfo> {
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  return server.address() as AddressInfo;
}
