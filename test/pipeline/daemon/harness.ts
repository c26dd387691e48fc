import { type ChildProcess, spawn } from "node:child_process";
import { createHmac, randomUUID } from "node:crypto";
import { createServer, type Server } from "node:http";
import { request as httpsRequest } from "node:https";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { forward } from "../../support/forward.js";

/*
 * Test harness for `sealgate daemon` as a real child process (the built CLI, as operators
 * run it): its JSON log lines, waiting for one, its exit; a proxy that slows MLflow down so a
 * signal can land mid-sync; MLflow-format signed webhook deliveries; and GET over HTTPS.
 */

const MAIN = join(import.meta.dirname, "../../../dist/src/cli/main.js");

export interface LogLine {
  msg?: string;
  job?: string;
  level?: number;
  port?: number;
  [k: string]: unknown;
}

export class DaemonProcess {
  readonly lines: LogLine[] = [];
  readonly raw: string[] = [];
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private readonly waiters: { match: (l: LogLine) => boolean; resolve: (l: LogLine) => void }[] = [];
  readonly proc: ChildProcess;

  constructor(args: string[], env: NodeJS.ProcessEnv) {
    this.proc = spawn(process.execPath, [MAIN, ...args], {
      env: { ...process.env, ...env, SEALGATE_LOG_LEVEL: "debug" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let buf = "";
    this.proc.stderr!.setEncoding("utf8").on("data", (chunk: string) => {
      buf += chunk;
      let nl: number;
      while ((nl = buf.indexOf("\n")) >= 0) {
        this.take(buf.slice(0, nl));
        buf = buf.slice(nl + 1);
      }
    });
    this.proc.stdout!.resume();
    this.exited = new Promise((resolve) => this.proc.on("exit", (code, signal) => resolve({ code, signal })));
  }

  private take(text: string) {
    this.raw.push(text);
    let line: LogLine;
    try {
      line = JSON.parse(text) as LogLine;
    } catch {
      line = { msg: text };
    }
    this.lines.push(line);
    for (const w of [...this.waiters])
      if (w.match(line)) {
        this.waiters.splice(this.waiters.indexOf(w), 1);
        w.resolve(line);
      }
  }

  /** The first log line (past or future) matching; rejects if the daemon exits first. */
  waitFor(match: (l: LogLine) => boolean): Promise<LogLine> {
    const seen = this.lines.find(match);
    if (seen) return Promise.resolve(seen);
    return Promise.race([
      new Promise<LogLine>((resolve) => this.waiters.push({ match, resolve })),
      this.exited.then(({ code }) => {
        // Its last lines say why; CI's summary keeps only the first lines of a failure.
        const last = this.raw.slice(-6).join("\n");
        throw new Error(`daemon exited (${code}) before the awaited log line; its last log lines:\n${last}`);
      }),
    ]);
  }

  async url(): Promise<string> {
    const l = await this.waitFor((x) => x.msg === "listening");
    return `${l.tls ? "https" : "http"}://127.0.0.1:${l.port}`;
  }

  signal(s: NodeJS.Signals) {
    this.proc.kill(s);
  }
}

/** Forwards to `upstream` after `delayMs`, so MLflow-bound work takes as long as a test needs. */
export async function slowProxy(upstream: string, delayMs: number) {
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => setTimeout(() => forward(upstream, req, Buffer.concat(chunks), res), delayMs));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise<void>((r) => (server.closeAllConnections(), server.close(() => r()))),
  };
}

/** A webhook delivery as MLflow signs it: v1,base64(HMAC-SHA256(secret, "id.ts.body")). */
export function signedDelivery(secret: string, payload: unknown, o: { badSignature?: boolean } = {}) {
  const body = JSON.stringify(payload);
  const id = randomUUID();
  const ts = String(Math.floor(Date.now() / 1000));
  const mac = createHmac("sha256", o.badSignature ? `${secret}-wrong` : secret)
    .update(`${id}.${ts}.${body}`)
    .digest("base64");
  return {
    body,
    headers: {
      "content-type": "application/json",
      "x-mlflow-delivery-id": id,
      "x-mlflow-timestamp": ts,
      "x-mlflow-signature": `v1,${mac}`,
    },
  };
}

/** The value of one metric sample in Prometheus text, or undefined. */
export function metric(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  const want = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  for (const line of text.split("\n")) {
    const m = /^([a-z_:]+)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const have = (m[2] ?? "").split(",").filter(Boolean);
    if (want.every((w) => have.includes(w))) return Number(m[3]);
  }
  return undefined;
}

/** GET over HTTPS trusting `ca` (fetch cannot take a CA), with an optional bearer token. */
export function httpsGet(
  url: string,
  o: { ca: Buffer; token?: string },
): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const headers = o.token ? { authorization: `Bearer ${o.token}` } : {};
    const req = httpsRequest(url, { ca: o.ca, headers }, (res) => {
      let text = "";
      res.setEncoding("utf8").on("data", (c: string) => (text += c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, text }));
    });
    req.on("error", reject).end();
  });
}
