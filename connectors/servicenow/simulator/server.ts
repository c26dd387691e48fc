import { randomBytes } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { createServer as createTlsServer } from "node:https";
import type { AddressInfo } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import type { Logger } from "pino";
import { SealgateError } from "../../../src/core/errors.js";
import type { FaultKnobs, SimulatorHandle } from "../../sdk/simulator.js";
import { attachmentApi } from "./attachment.js";
import { FaultInjector, type ScriptedFault } from "./faults.js";
import { authenticated, type Credentials, tokenEndpoint } from "./oauth.js";
import { type Reply, type SimRequest, snError } from "./reply.js";
import { InstanceState } from "./state.js";
import { tableApi } from "./table.js";

export type { ScriptedFault } from "./faults.js";

export interface ServiceNowSimulatorOptions {
  port?: number;
  host?: string;
  faults?: Partial<FaultKnobs>;
  logger?: Logger;
  /** Access token lifetime (30 min on a default instance); short in tests. */
  accessTokenSeconds?: number;
  clientCredentialsEnabled?: boolean;
  /** UNCONFIRMED on real instances: whether sn_grc_ai_gov_ai_system_task extends task. */
  grcExtendsTask?: boolean;
  /** glide.invalid_query.returns_no_rows; false (unknown query fields ignored) by default. */
  invalidQueryReturnsNoRows?: boolean;
  /** Columns records() reads the correlation value from, first non-empty wins. */
  correlationFields?: string[];
  credentials?: Partial<Credentials>;
  random?: () => number;
  /** Serve https with this PEM certificate and key (tests of the connector's `ca`). */
  tls?: { cert: string; key: string };
}

export interface ServiceNowSimulator extends SimulatorHandle {
  readonly state: InstanceState;
  /** Deterministic faults for tests: the next request to `method path*` gets `fault`. */
  failNext(fault: ScriptedFault, method: string, pathPrefix: string): void;
  /** Imitate the client dying: after `n` more requests every request is lost (null: stop). */
  blackoutAfter(n: number | null): void;
}

const MAX_BODY = 64 * 1024 * 1024;

/** The running instance's parts, which the request path below reads. */
interface Instance {
  opts: ServiceNowSimulatorOptions;
  state: InstanceState;
  creds: Credentials;
  faults: FaultInjector;
  count: (key: string) => number;
  /** The server's own URL, known once it listens. */
  base: string;
}

/** A protocol-faithful ServiceNow instance on loopback, with fault knobs. Prints nothing. */
export async function startServiceNowSimulator(
  opts: ServiceNowSimulatorOptions = {},
): Promise<ServiceNowSimulator> {
  const random = opts.random ?? Math.random;
  const secret = (prefix: string) => `${prefix}-${randomBytes(12).toString("hex")}`;
  const creds: Credentials = {
    username: "sealgate.integration",
    password: secret("pw"),
    clientId: secret("client"),
    clientSecret: secret("cs"),
    ...opts.credentials,
  };
  const state = new InstanceState(opts.grcExtendsTask ?? true);
  const counters: Record<string, number> = {};
  const count = (key: string) => (counters[key] = (counters[key] ?? 0) + 1);
  const faults = new FaultInjector(opts.faults, random, count);
  const sn: Instance = { opts, state, creds, faults, count, base: "" };

  const listener = (req: IncomingMessage, res: ServerResponse) => {
    handle(sn, req, res).catch((err: unknown) => {
      opts.logger?.error({ err }, "simulator failure");
      if (!res.headersSent) res.writeHead(500).end();
    });
  };
  const server = opts.tls ? createTlsServer(opts.tls, listener) : createServer(listener);
  sn.base = await listen(server, opts);
  const correlationFields = opts.correlationFields ?? ["correlation_id", "u_sealgate_digest"];

  return {
    url: sn.base,
    // Shaped like the connector's `auth` section (literal values; config takes references).
    credentials: { type: "oauth-password", ...creds },
    state,
    setFaults: (f) => {
      faults.knobs = { ...faults.knobs, ...f };
    },
    failNext: (fault, method, pathPrefix) => faults.script(fault, method, pathPrefix),
    blackoutAfter: (n) => faults.blackoutAfter(n),
    revokeTokens: () => {
      count("revocations");
      state.tokens.clear();
    },
    records: () => state.records(correlationFields),
    stats: () => ({ ...counters }),
    secrets: () => [creds.password, creds.clientSecret, ...state.issued],
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** The route table: the token endpoint, then the Table and Attachment APIs behind authentication. */
function route(sn: Instance, req: SimRequest): Reply {
  const { opts, state, creds, count } = sn;
  if (req.url.pathname === "/oauth_token.do") {
    const reply = tokenEndpoint(req, state, creds, {
      accessTokenSeconds: opts.accessTokenSeconds ?? 1800,
      clientCredentialsEnabled: opts.clientCredentialsEnabled ?? false,
    });
    if (reply.status === 200) {
      count("tokensMinted");
      count(`grant:${new URLSearchParams(req.body.toString("utf8")).get("grant_type")}`);
    }
    return reply;
  }
  if (!req.url.pathname.startsWith("/api/now/"))
    return snError(400, "Requested URI does not represent any resource");
  if (!authenticated(req, state, creds)) {
    count("401");
    return snError(401, "User Not Authenticated", "Required to provide Auth information");
  }
  const reply =
    tableApi(req, state, {
      base: sn.base,
      invalidQueryReturnsNoRows: opts.invalidQueryReturnsNoRows ?? false,
    }) ?? attachmentApi(req, state, sn.base);
  return reply ?? snError(400, "Requested URI does not represent any resource");
}

/** One request: read it, let the fault injector delay, answer early or drop it, else route it. */
async function handle(sn: Instance, message: IncomingMessage, res: ServerResponse) {
  const { faults, count } = sn;
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of message) {
    size += (chunk as Buffer).length;
    if (size <= MAX_BODY) chunks.push(chunk as Buffer);
  }
  const req: SimRequest = {
    method: message.method ?? "GET",
    url: new URL(message.url ?? "/", sn.base),
    headers: message.headers,
    body: Buffer.concat(chunks),
  };
  count("requests");
  count(`${req.method} ${req.url.pathname.replace(/[0-9a-f]{32}/g, ":id")}`);
  sn.opts.logger?.debug({ method: req.method, path: req.url.pathname }, "simulated ServiceNow request");
  const latency = faults.latencyMs();
  if (latency > 0) await sleep(latency);
  const { reset, early } = faults.decide(req);
  if (reset === "before") return drop(sn, message);
  const reply = early ?? (size > MAX_BODY ? snError(413, "Request entity too large") : route(sn, req));
  if (req.url.pathname === "/api/now/attachment/file" && faults.knobs.slowUploadMs > 0) {
    await sleep(faults.knobs.slowUploadMs);
  }
  // "after": processed, then the connection dies before the answer (the write may have landed).
  if (reset === "after") return drop(sn, message);
  const headers: Record<string, string> = { ...faults.rateHeaders(), ...reply.headers };
  let body: Buffer | undefined = reply.bytes;
  if (reply.json !== undefined) {
    headers["content-type"] = "application/json;charset=UTF-8";
    body = Buffer.from(JSON.stringify(reply.json));
  }
  res.writeHead(reply.status, headers).end(body);
}

function drop(sn: Instance, message: IncomingMessage) {
  sn.count("resets");
  message.socket.destroy();
}

/** Listen where the options say; the server's base URL, or a usage error naming the address. */
async function listen(server: Server, opts: ServiceNowSimulatorOptions): Promise<string> {
  const where = `${opts.host ?? "127.0.0.1"}:${opts.port ?? 0}`;
  await new Promise<void>((resolve, reject) => {
    server.once("error", (cause: NodeJS.ErrnoException) =>
      reject(
        new SealgateError("USAGE", `cannot listen on ${where} (${cause.code}); choose another port`, {
          cause,
        }),
      ),
    );
    server.listen(opts.port ?? 0, opts.host ?? "127.0.0.1", resolve);
  });
  const address = server.address() as AddressInfo;
  const host = address.family === "IPv6" ? `[${address.address}]` : address.address;
  return `${opts.tls ? "https" : "http"}://${host}:${address.port}`;
}
