import { FileLedgerReader } from "../../../src/evidence/ledger/file-ledger.js";
import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import { request as httpsRequest } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Registry } from "prom-client";
import { afterEach, describe, expect, it } from "vitest";
import { createDaemonServer, listen, type Routes } from "../../../src/pipeline/daemon/http.js";
import { throwawayTls } from "../../support/throwaway-ca.js";

/*
 * The daemon's HTTP face with an access token and with TLS: /metrics and /ledger/* want the
 * bearer token (401 and WWW-Authenticate otherwise), health probes and the webhook route do not,
 * and a certificate turns the same routes into HTTPS.
 */

const TOKEN = "tok-3f9a1c7e5b2d4a6c8e0f";
const servers: { close: () => void }[] = [];
afterEach(() => servers.splice(0).forEach((s) => s.close()));

async function start(extra: Partial<Routes>, tls?: { cert: Buffer; key: Buffer }) {
  const ledgerDir = await mkdtemp(join(tmpdir(), "sealgate-http-"));
  await writeFile(join(ledgerDir, "entries.log"), "entry\n");
  const server = createDaemonServer(
    {
      ready: async () => [],
      registry: new Registry(),
      ledger: new FileLedgerReader(ledgerDir),
      webhook: { path: "/hooks/mlflow", handle: (_req, res) => void res.writeHead(204).end() },
      ...extra,
    },
    tls,
  );
  servers.push(server);
  const { port } = await listen(server, "127.0.0.1", 0);
  return `127.0.0.1:${port}`;
}

async function get(url: string, o: { token?: string; method?: string } = {}) {
  const r = await fetch(url, {
    method: o.method ?? "GET",
    headers: o.token === undefined ? {} : { authorization: o.token },
  });
  return { status: r.status, auth: r.headers.get("www-authenticate"), text: await r.text() };
}

describe("daemon HTTP access token", () => {
  it("wants the bearer token for /metrics and every /ledger/ path, and says so in WWW-Authenticate", async () => {
    const host = await start({ accessToken: TOKEN });
    for (const path of [
      "/metrics",
      "/ledger/entries.log",
      "/ledger/checkpoints.log",
      "/ledger/LOCK",
      "/ledger",
    ]) {
      expect(await get(`http://${host}${path}`), path).toMatchObject({
        status: 401,
        auth: 'Bearer realm="sealgate"',
      });
      for (const wrong of [
        `Bearer ${TOKEN}x`,
        `Bearer ${TOKEN.slice(0, -1)}`,
        "Bearer ",
        `Basic ${TOKEN}`,
        TOKEN,
      ])
        expect(await get(`http://${host}${path}`, { token: wrong }), `${path} ${wrong}`).toMatchObject({
          status: 401,
          auth: 'Bearer realm="sealgate", error="invalid_token"',
        });
    }
    expect((await get(`http://${host}/metrics`, { token: `Bearer ${TOKEN}` })).status).toBe(200);
    expect((await get(`http://${host}/metrics`, { token: `bearer  ${TOKEN} ` })).status).toBe(200);
    expect(await get(`http://${host}/ledger/entries.log`, { token: `Bearer ${TOKEN}` })).toMatchObject({
      status: 200,
      text: "entry\n",
    });
    expect((await get(`http://${host}/ledger/LOCK`, { token: `Bearer ${TOKEN}` })).status).toBe(404);
    // The token is never echoed back.
    const refused = await get(`http://${host}/metrics`, { token: "Bearer guess" });
    expect(refused.text).not.toContain(TOKEN);
  });

  it("leaves health probes and the (signed) webhook route open", async () => {
    const host = await start({ accessToken: TOKEN });
    expect((await get(`http://${host}/healthz`)).status).toBe(200);
    expect((await get(`http://${host}/readyz`)).status).toBe(200);
    expect((await get(`http://${host}/hooks/mlflow`, { method: "POST" })).status).toBe(204);
  });

  it("serves /metrics and the ledger openly when no token is configured (loopback binds)", async () => {
    const host = await start({});
    expect((await get(`http://${host}/metrics`)).status).toBe(200);
    expect((await get(`http://${host}/ledger/entries.log`)).status).toBe(200);
  });
});

describe("daemon HTTPS", () => {
  it("serves the same routes over TLS with the configured certificate, and nothing over plain HTTP", async () => {
    const tls = await throwawayTls("daemon");
    const host = await start(
      { accessToken: TOKEN },
      { cert: Buffer.from(tls.cert), key: Buffer.from(tls.key) },
    );
    const ca = await readFile(tls.caPath);
    const viaTls = (path: string, token?: string) =>
      new Promise<{ status: number; text: string }>((resolve, reject) => {
        const [hostname, port] = host.split(":") as [string, string];
        const req = httpsRequest(
          { hostname, port, path, ca, headers: token ? { authorization: `Bearer ${token}` } : {} },
          (res) => {
            let text = "";
            res.setEncoding("utf8").on("data", (c: string) => (text += c));
            res.on("end", () => resolve({ status: res.statusCode ?? 0, text }));
          },
        );
        req.on("error", reject).end();
      });
    expect(await viaTls("/healthz")).toEqual({ status: 200, text: "ok\n" });
    expect((await viaTls("/metrics")).status).toBe(401);
    expect(await viaTls("/ledger/entries.log", TOKEN)).toEqual({ status: 200, text: "entry\n" });
    await expect(fetch(`http://${host}/healthz`)).rejects.toThrow();
  });
});
