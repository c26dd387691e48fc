import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { Registry } from "prom-client";

/*
 * The daemon's HTTP face on node:http: health, readiness, metrics and the webhook route.
 * Nothing here holds state; the daemon passes in what each route answers.
 */

export interface Routes {
  ready: () => Promise<string[]>;
  registry: Registry;
  webhook?: { path: string; handle: (req: IncomingMessage, res: ServerResponse) => void };
}

const text = (res: ServerResponse, status: number, body: string, type = "text/plain; charset=utf-8") =>
  void res.writeHead(status, { "content-type": type }).end(body);

export function createDaemonServer(routes: Routes): Server {
  return createServer((req, res) => {
    const path = new URL(req.url ?? "/", "http://daemon").pathname;
    const method = req.method ?? "GET";
    const route = async () => {
      if (routes.webhook && path === routes.webhook.path) {
        if (method !== "POST") return text(res, 405, "use POST\n");
        return routes.webhook.handle(req, res);
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
        default:
          return text(res, 404, "not found\n");
      }
    };
    route().catch((err: unknown) => {
      if (!res.headersSent)
        text(res, 500, `internal error: ${err instanceof Error ? err.message : String(err)}\n`);
      else res.destroy();
    });
  });
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
