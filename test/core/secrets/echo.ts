import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { readdir, readFile } from "node:fs/promises";
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { forward } from "../../support/forward.js";

/*
 * A hostile remote for the secret-leak tests: it answers with an error whose body echoes the
 * request (line, Authorization first, body, every other header), as a careless or malicious
 * server would. It can stand in for a whole service, answer a few paths itself, or forward to
 * a real simulator and echo only the calls that match. Plus canaries, their encodings, and a
 * way to read every byte a run left behind.
 */

const MAIN = join(import.meta.dirname, "../../../dist/src/cli/main.js");

export type EchoFormat = "json" | "text" | "archer";

export interface EchoOptions {
  status: number;
  format: EchoFormat;
  /** Answer these requests normally (e.g. MLflow searches with empty pages). */
  answer?: (method: string, path: string) => unknown;
  /** Forward to this simulator, except the requests `echoIf` picks. */
  upstream?: string;
  echoIf?: (method: string, path: string) => boolean;
}

export interface EchoServer {
  url: string;
  /** Every Authorization value received: minted tokens are credentials too. */
  authorizations: Set<string>;
  close(): Promise<void>;
}

/** What the echo says: short enough that the 500-character clip keeps every credential. */
function echoText(req: IncomingMessage, body: string): string {
  const others = Object.entries(req.headers)
    .filter(([k]) => k !== "authorization")
    .map(([k, v]) => `${k}: ${String(v)}`);
  return [
    `${req.method} ${req.url}`,
    `authorization: ${req.headers.authorization ?? ""}`,
    body,
    ...others,
  ].join("\n");
}

function echoBody(format: EchoFormat, text: string): { type: string; body: string } {
  if (format === "text") return { type: "text/plain", body: text };
  if (format === "archer")
    return {
      type: "application/json",
      body: JSON.stringify({ IsSuccessful: false, ValidationMessages: [{ ResourcedMessage: text }] }),
    };
  return {
    type: "application/json",
    body: JSON.stringify({ error_code: "ECHO", message: text, error: { message: text, detail: text } }),
  };
}

export async function echoServer(o: EchoOptions): Promise<EchoServer> {
  const authorizations = new Set<string>();
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const body = Buffer.concat(chunks);
      if (req.headers.authorization) authorizations.add(req.headers.authorization);
      const path = new URL(req.url ?? "/", "http://x").pathname;
      const answer = o.answer?.(req.method ?? "GET", path);
      if (answer !== undefined) {
        res.writeHead(200, { "content-type": "application/json" });
        return void res.end(JSON.stringify(answer));
      }
      if (o.upstream && !o.echoIf?.(req.method ?? "GET", path)) return forward(o.upstream, req, body, res);
      const reply = echoBody(o.format, echoText(req, body.toString("utf8")));
      res.writeHead(o.status, { "content-type": reply.type });
      res.end(reply.body);
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    authorizations,
    close: () => new Promise<void>((r) => (server.closeAllConnections(), server.close(() => r()))),
  };
}

/**
 * A distinct random secret: a random core (what any leak must carry) between characters
 * that URL, form and JSON encoding each change, so every encoded form differs from the raw one.
 */
export function canary(label: string): string {
  return `${label}-${randomBytes(12).toString("hex")}+/&="é %`;
}

/** Every form in which a secret could be printed: raw, JSON, URL, form, base64 (alone and as user:secret). */
export function leakForms(secret: string, user?: string): string[] {
  const b64 = (s: string) => Buffer.from(s, "utf8").toString("base64");
  const core = /-([0-9a-f]{24})/.exec(secret)?.[1];
  return [
    secret,
    ...(core ? [core] : []),
    JSON.stringify(secret).slice(1, -1),
    encodeURIComponent(secret),
    new URLSearchParams({ x: secret }).toString().slice(2),
    b64(secret),
    Buffer.from(secret, "utf8").toString("base64url"),
    ...(user ? [b64(`${user}:${secret}`)] : []),
  ];
}

export interface Run {
  args: string[];
  code: number | null;
  out: string;
  err: string;
}

/** The built CLI as an operator runs it, with its JSON logs on stderr. */
export function runCli(args: string[], env: NodeJS.ProcessEnv): Promise<Run> {
  const child = spawn(process.execPath, [MAIN, ...args], {
    env: { ...process.env, ...env, SEALGATE_LOG_LEVEL: "debug" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  let err = "";
  child.stdout.setEncoding("utf8").on("data", (d: string) => (out += d));
  child.stderr.setEncoding("utf8").on("data", (d: string) => (err += d));
  return new Promise((resolve) => child.on("close", (code) => resolve({ args, code, out, err })));
}

/** Every file under `dir`, as bytes: a leak may sit in any of them, text or not. */
export async function filesUnder(dir: string): Promise<{ path: string; bytes: Buffer }[]> {
  const out: { path: string; bytes: Buffer }[] = [];
  for (const e of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (!e.isFile()) continue;
    const path = join(e.parentPath, e.name);
    out.push({ path, bytes: await readFile(path) });
  }
  return out;
}
