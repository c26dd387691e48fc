import { randomBytes } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import type { AddressInfo } from "node:net";
import type { Logger } from "pino";
import type { FaultKnobs, SimulatedRecord, SimulatorHandle } from "../../sdk/simulator.js";
import { NO_FAULTS } from "../../sdk/simulator.js";
import { ContentStore } from "./content.js";
import { aspnet, type Reply } from "./envelope.js";
import { Faults, type Scripted } from "./faults.js";
import { orphanAttachments, simulatedRecords } from "./inspect.js";
import { contentApiRoute, platformRoute } from "./routes.js";
import { seedMetadata } from "./seed.js";
import { Sessions } from "./sessions.js";

export interface ArcherSimOptions {
  port?: number;
  host?: string;
  faults?: Partial<FaultKnobs>;
  logger?: Logger;
  /** REST prefixes served: both by default (an instance upgraded past 6.5 may keep only one). */
  prefixes?: ("platformapi" | "api")[];
  /** Path of the Archer web application on the server. */
  basePath?: string;
  /** Server-side page cap for metadata listings (an admin setting in Archer). */
  maxPageSize?: number;
  /** HTTP status of content validation failures: 200 (envelope only) or 400. UNCONFIRMED. */
  validationStatus?: 200 | 400;
  /** Idle time after which a session stops working (0 = never). UNCONFIRMED in the docs. */
  sessionIdleMs?: number;
  fillerApplications?: number;
  /** Name of the field records() reports as the correlation value. */
  correlationField?: string;
  /** Model an instance without the Content API installed (contentapi/ is a 404 page). */
  noContentApi?: boolean;
  /** PEM key and certificate: serve https instead of http. */
  tls?: { key: string; cert: string };
}

const MAX_BODY = 64 * 1024 * 1024;

/** A simulated Archer instance: real HTTP on loopback, Archer's envelopes, auth and quirks. */
export class ArcherSimulator implements SimulatorHandle {
  readonly store: ContentStore;
  readonly sessions: Sessions;
  readonly credentials: Record<string, string>;
  private readonly faults: Faults;
  private readonly counters = new Map<string, number>();
  private server: Server | null = null;
  private base = "";

  constructor(private readonly opts: ArcherSimOptions = {}) {
    this.store = new ContentStore(seedMetadata(opts.fillerApplications ?? 120), opts.validationStatus ?? 200);
    this.credentials = {
      instance: "SealgateSim",
      username: "sealgate-api",
      password: `sim-${randomBytes(12).toString("hex")}`,
    };
    this.sessions = new Sessions(this.credentials, opts.sessionIdleMs ?? 0);
    this.faults = new Faults({ ...NO_FAULTS, ...opts.faults }, (k) => this.count(k));
  }

  get url(): string {
    return this.base;
  }

  async listen(): Promise<this> {
    const listener = (req: IncomingMessage, res: ServerResponse) => {
      this.handle(req, res).catch((err: unknown) => {
        this.opts.logger?.error({ err: (err as Error).message }, "archer simulator failed a request");
        if (!res.headersSent) send(res, { status: 500, body: { Message: "An error has occurred." } });
      });
    };
    const server = this.opts.tls ? createHttpsServer(this.opts.tls, listener) : createServer(listener);
    this.server = server;
    await new Promise<void>((resolve) =>
      server.listen(this.opts.port ?? 0, this.opts.host ?? "127.0.0.1", resolve),
    );
    const { port, address } = server.address() as AddressInfo;
    const host = address.includes(":") ? `[${address}]` : address;
    this.base = `${this.opts.tls ? "https" : "http"}://${host}:${port}${this.opts.basePath ?? "/Archer"}`;
    return this;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://sim");
    const basePath = this.opts.basePath ?? "/Archer";
    const path = url.pathname.startsWith(`${basePath}/`) ? url.pathname.slice(basePath.length + 1) : null;
    const body = await readBody(req);
    const [prefix, ...restParts] = (path ?? "").split("/");
    const rest = restParts.join("/");
    const key = `${req.method} ${prefix}/${rest.replace(/\/\d+/g, "/{id}")}`;
    this.count(key);
    const isUpload = req.method === "POST" && rest === "core/content/attachment";
    const verdict = await this.faults.before(key, isUpload);
    if (verdict === "reset-before") return void req.socket.destroy();
    if (verdict && verdict !== "reset-after") return send(res, verdict);
    const reply = this.dispatch(req, url, path, prefix ?? "", rest, body);
    if (verdict === "reset-after") return void req.socket.destroy(); // processed, answer lost
    this.opts.logger?.debug(
      { method: req.method, path: url.pathname, status: reply.status },
      "archer simulator",
    );
    send(res, reply);
  }

  private dispatch(
    req: IncomingMessage,
    url: URL,
    path: string | null,
    prefix: string,
    rest: string,
    raw: Buffer | null,
  ): Reply {
    if (raw === null) return aspnet(413, "The request is too large.");
    if (path === null) return htmlNotFound();
    let body: unknown;
    if (raw.length > 0) {
      if (!String(req.headers["content-type"] ?? "").startsWith("application/json")) {
        return aspnet(
          415,
          `The request entity's media type '${req.headers["content-type"] ?? ""}' is not supported for this resource.`,
        );
      }
      try {
        body = JSON.parse(raw.toString("utf8"));
      } catch {
        return aspnet(400, "The request is invalid.");
      }
    }
    const override = String(req.headers["x-http-method-override"] ?? "").toUpperCase();
    const method = req.method === "POST" && override === "GET" ? "GET" : (req.method ?? "GET");
    const value = (body as { Value?: unknown } | undefined)?.Value;
    const request = {
      method,
      route: rest,
      body,
      odata: typeof value === "string" ? value : "",
      baseUrl: this.base,
    };
    const prefixes = this.opts.prefixes ?? ["platformapi", "api"];
    const isPlatform = (prefixes as string[]).includes(prefix);
    if (isPlatform && rest === "core/security/login" && req.method === "POST")
      return this.sessions.login(body);
    const session = this.sessions.check(req.headers.authorization);
    if (isPlatform && rest === "core/security/logout" && req.method === "POST")
      return this.sessions.logout(session, body);
    if (prefix === "contentapi" && restParts(rest).length === 1 && !this.opts.noContentApi) {
      if (!session) return aspnet(401, "Authorization has been denied for this request.");
      return contentApiRoute({ ...request, odata: url.searchParams }, rest, this.store);
    }
    if (!isPlatform) return htmlNotFound();
    if (!session) return aspnet(401, "Authorization has been denied for this request.");
    return platformRoute(request, this.store, this.opts.maxPageSize ?? 50);
  }

  setFaults(faults: Partial<FaultKnobs>): void {
    this.faults.set(faults);
  }

  /** One deterministic fault for the next request with this key, e.g. "PUT platformapi/core/content". */
  failOnce(key: string, fault: Scripted): void {
    this.faults.once(key, fault);
  }

  revokeTokens(): void {
    this.sessions.revokeAll();
  }

  records(): SimulatedRecord[] {
    return simulatedRecords(this.store, this.opts.correlationField ?? "Record Digest");
  }

  /** Attachments stored but linked to no record: crash leftovers, never shown on a record. */
  orphans(): number {
    return orphanAttachments(this.store);
  }

  stats(): Record<string, number> {
    return { ...Object.fromEntries(this.counters), "sessions.minted": this.sessions.issued.length };
  }

  secrets(): string[] {
    return [this.credentials.password as string, ...this.sessions.issued];
  }

  count(key: string): void {
    this.counters.set(key, (this.counters.get(key) ?? 0) + 1);
  }

  async close(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = null;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

const restParts = (rest: string) => rest.split("/").filter(Boolean);

const htmlNotFound = (): Reply => ({
  status: 404,
  body: "<html><body><h1>404 - File or directory not found.</h1></body></html>",
  headers: { "content-type": "text/html" },
});

async function readBody(req: IncomingMessage): Promise<Buffer | null> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size <= MAX_BODY) chunks.push(chunk as Buffer);
  }
  return size > MAX_BODY ? null : Buffer.concat(chunks);
}

function send(res: ServerResponse, reply: Reply): void {
  const text = typeof reply.body === "string" ? reply.body : JSON.stringify(reply.body);
  res.writeHead(reply.status, { "content-type": "application/json; charset=utf-8", ...reply.headers });
  res.end(text);
}
