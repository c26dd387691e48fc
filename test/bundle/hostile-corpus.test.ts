import { spawn } from "node:child_process";
import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import { createServer as createTcpServer, type Server as TcpServer, type Socket } from "node:net";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { LogFetchLimits } from "../../src/bundle/http-ledger-reader.js";
import { verifyBundle } from "../../src/bundle/verify.js";
import { readZip } from "../../src/bundle/zip-read.js";
import { HOSTILE_CASES } from "../fixtures/hostile-bundles/corpus.js";
import { exportOf, type SealedStore, sealedStore } from "./fixture.js";

/*
 * Every hostile bundle of the corpus (test/fixtures/hostile-bundles) and every hostile log server,
 * through the built CLI as an auditor runs it: the message names the member or limit, the exit
 * code is the contract's, and the process's peak RSS stays under 256 MiB.
 */

const MAIN = join(import.meta.dirname, "../../dist/src/cli/main.js");
const PEAK_RSS = pathToFileURL(join(import.meta.dirname, "../fixtures/hostile-bundles/peak-rss.mjs")).href;
const MEMORY_BOUND_MIB = 256;

let s: SealedStore;
let dir: string;
let good: Buffer;
let runs = 0;
const sockets = new Set<Socket>();
const servers: (Server | TcpServer)[] = [];

beforeAll(async () => {
  s = await sealedStore();
  dir = await mkdtemp(join(tmpdir(), "sealgate-hostile-corpus-"));
  good = await exportOf(s, s.events.approved);
  await writeFile(join(dir, "good.zip"), good);
});
afterAll(async () => {
  for (const socket of sockets) socket.destroy();
  await Promise.all(servers.map((srv) => new Promise((r) => srv.close(r))));
});

/** `sealgate verify ...` as a child process, with its output, exit code and peak RSS. */
async function verify(args: string[]) {
  const rssFile = join(dir, `peak-rss-${runs++}`);
  const child = spawn(process.execPath, ["--import", PEAK_RSS, MAIN, "verify", ...args], {
    env: { ...process.env, SEALGATE_PEAK_RSS_FILE: rssFile },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  child.stdout.setEncoding("utf8").on("data", (t: string) => (out += t));
  child.stderr.setEncoding("utf8").on("data", (t: string) => (out += t));
  const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
  const peakMiB = Number(await readFile(rssFile, "utf8")) / 1024;
  return { code, out, peakMiB };
}

const bundleAt = async (name: string, bytes: Buffer) => {
  const path = join(dir, `${name}.zip`);
  await writeFile(path, bytes);
  return path;
};

/** An HTTP server on 127.0.0.1 whose sockets the tests close at the end. */
async function serve(handler: Parameters<typeof createServer>[1]): Promise<string> {
  const srv = createServer(handler);
  srv.on("connection", (c) => (sockets.add(c), c.on("close", () => sockets.delete(c))));
  servers.push(srv);
  await new Promise<void>((r) => srv.listen(0, "127.0.0.1", r));
  return `http://127.0.0.1:${(srv.address() as { port: number }).port}/`;
}

describe("the hostile-bundle corpus, through sealgate verify", () => {
  it.each(HOSTILE_CASES.map((c) => [c.name, c] as const))("%s", async (_, c) => {
    const base = await readZip(good);
    const r = await verify([await bundleAt(c.name, c.build(base)), "--ca", s.pki.trust.anchors]);
    expect(r.out, c.about).toMatch(c.message);
    for (const m of c.more ?? []) expect(r.out).toMatch(m);
    for (const a of c.absent ?? []) expect(r.out).not.toMatch(a);
    if (c.once) expect(r.out.match(c.once), r.out).toHaveLength(1);
    expect(r.code, r.out).toBe(c.exitCode);
    expect(r.peakMiB).toBeLessThan(MEMORY_BOUND_MIB);
  });

  it("a directory given as the bundle: a usage error that suggests --store", async () => {
    const r = await verify([s.root, "--ca", s.pki.trust.anchors]);
    expect(r.out).toContain(`${s.root} is a directory, not a bundle`);
    expect(r.out).toContain(`sealgate verify --store ${s.root}`);
    expect(r.code).toBe(2);
    expect(r.peakMiB).toBeLessThan(MEMORY_BOUND_MIB);
  });
});

describe("verify --log URL against a hostile server", () => {
  it("a server that never stops sending hits the byte cap, named, within the memory bound", async () => {
    const url = await serve((req, res) => {
      const chunk = Buffer.from("x\n".repeat(32 * 1024));
      const pump = () => {
        while (!res.destroyed && res.write(chunk));
        if (!res.destroyed) res.once("drain", pump);
      };
      pump();
    });
    const r = await verify([join(dir, "good.zip"), "--ca", s.pki.trust.anchors, "--log", url]);
    expect(r.out).toMatch(
      /the live log at http:\/\/127\.0\.0\.1:\d+\/ sent more than 16777216 bytes of checkpoints\.log \(byte cap: 4096 bytes per entry of the bundle's 3-entry checkpoint, at least 16777216; raise it with --log-max-mb\)/,
    );
    expect(r.code).toBe(1);
    expect(r.peakMiB).toBeLessThan(MEMORY_BOUND_MIB);
  });

  it("a refused connection is named once, not echoed", async () => {
    const url = await serve(() => undefined);
    await new Promise((r) => servers.pop()!.close(r));
    const r = await verify([join(dir, "good.zip"), "--ca", s.pki.trust.anchors, "--log", url]);
    expect(r.out).toMatch(/cannot connect to the live log at http:\/\/127\.0\.0\.1:\d+\/ \(ECONNREFUSED\)/);
    expect(r.out.match(/ECONNREFUSED/g)).toHaveLength(1);
    expect(r.code).toBe(1);
  });

  const failedWith = (message: RegExp) => ({
    ok: false,
    findings: [
      expect.objectContaining({ code: "LOG_INCONSISTENT", message: expect.stringMatching(message) }),
    ],
  });
  const logClaim = async (url: string, limits: Partial<LogFetchLimits>) =>
    (await verifyBundle(good, s.trust, { log: { url, limits } })).claims.find((c) => c.id === "log")!;

  it("a server that accepts and never answers hits the connect timeout", async () => {
    const silent = createTcpServer((c) => void sockets.add(c));
    servers.push(silent);
    await new Promise<void>((r) => silent.listen(0, "127.0.0.1", r));
    const url = `http://127.0.0.1:${(silent.address() as { port: number }).port}/`;
    const log = await logClaim(url, { connectMs: 200 });
    expect(log).toMatchObject(failedWith(/did not answer within 0\.2 s \(connect timeout\)/));
  });

  it("a server that goes silent mid-body hits the idle timeout", async () => {
    const url = await serve((req, res) => void res.write("a line\n"));
    const log = await logClaim(url, { idleMs: 200 });
    expect(log).toMatchObject(failedWith(/sent nothing for 0\.2 s \(idle timeout\)/));
  });

  it("a server that trickles forever hits the overall deadline", async () => {
    const url = await serve((req, res) => {
      const timer = setInterval(() => res.write("x\n"), 20);
      res.on("close", () => clearInterval(timer));
    });
    const log = await logClaim(url, { deadlineMs: 300, idleMs: 5_000 });
    expect(log).toMatchObject(failedWith(/took longer than 0\.3 s in all \(overall deadline\)/));
  });
});
