import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { forward } from "./forward.js";

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
      forward(this.upstream, req, req, res, fault && "rewrite" in fault ? { rewrite: fault.rewrite } : {});
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
