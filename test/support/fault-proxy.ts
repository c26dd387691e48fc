import { createServer, type IncomingHttpHeaders, request, type Server } from "node:http";
import type { AddressInfo } from "node:net";

/*
 * A reverse proxy in front of a real server that can answer with scripted faults instead of
 * forwarding: status codes with bodies and headers, or a reset connection. Tests use it to
 * prove retry behaviour against real responses, and to count and inspect requests.
 */

export type Fault =
  | { status: number; body?: string; headers?: Record<string, string> }
  | { reset: true }
  | { rewrite: (body: Buffer) => Buffer };

export interface SeenRequest {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  faulted: boolean;
}

export class FaultProxy {
  readonly seen: SeenRequest[] = [];
  private faults: { match: (method: string, url: string) => boolean; fault: Fault }[] = [];
  private server: Server | undefined;
  url = "";

  constructor(private readonly upstream: string) {}

  /** Answer the next request matching `match` (a URL substring) with `fault`, once per call. */
  inject(fault: Fault, match: string | ((method: string, url: string) => boolean) = () => true): this {
    const m = typeof match === "string" ? (_: string, url: string) => url.includes(match) : match;
    this.faults.push({ match: m, fault });
    return this;
  }

  clear(): void {
    this.faults = [];
    this.seen.length = 0;
  }

  async start(): Promise<this> {
    const up = new URL(this.upstream);
    this.server = createServer((req, res) => {
      const idx = this.faults.findIndex((f) => f.match(req.method ?? "GET", req.url ?? ""));
      const fault = idx >= 0 ? this.faults.splice(idx, 1)[0]?.fault : undefined;
      this.seen.push({
        method: req.method ?? "GET",
        url: req.url ?? "",
        headers: req.headers,
        faulted: !!fault && !("rewrite" in fault),
      });
      if (fault && "reset" in fault) {
        req.socket.resetAndDestroy();
        return;
      }
      if (fault && "status" in fault) {
        req.resume();
        res.writeHead(fault.status, fault.headers ?? {});
        res.end(fault.body ?? "");
        return;
      }
      const fwd = request(
        {
          host: up.hostname,
          port: up.port,
          method: req.method,
          path: req.url,
          headers: { ...req.headers, host: up.host },
        },
        (upRes) => {
          if (fault && "rewrite" in fault) {
            const chunks: Buffer[] = [];
            upRes.on("data", (c: Buffer) => chunks.push(c));
            upRes.on("end", () => {
              const body = fault.rewrite(Buffer.concat(chunks));
              const headers = { ...upRes.headers, "content-length": String(body.length) };
              delete headers["transfer-encoding"];
              res.writeHead(upRes.statusCode ?? 502, headers);
              res.end(body);
            });
            return;
          }
          res.writeHead(upRes.statusCode ?? 502, upRes.headers);
          upRes.pipe(res);
        },
      );
      fwd.on("error", () => res.destroy());
      req.pipe(fwd);
    });
    await new Promise<void>((resolve) => this.server?.listen(0, "127.0.0.1", resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise((resolve) => this.server?.close(resolve));
  }
}
