import { execFile } from "node:child_process";
import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import { request as httpRequest } from "node:http";
import { createServer as createTlsServer, type Server } from "node:https";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { VantaSimulatorHandle } from "../simulator/server.js";
import { delivery, push, startSim, testDestination } from "./helpers.js";

const run = promisify(execFile);

/** An https front for the simulator with a certificate from a throwaway CA (openssl). */
describe("TLS to Vanta", () => {
  let sim: VantaSimulatorHandle;
  let server: Server;
  let url: string;
  let caPath: string;

  beforeAll(async () => {
    const dir = await mkdtemp(join(tmpdir(), "sealgate-vanta-tls-"));
    caPath = join(dir, "ca.pem");
    const o = (...args: string[]) => run("openssl", args, { cwd: dir });
    const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "1"];
    await o(
      "req",
      "-x509",
      ...ec,
      "-subj",
      "/CN=sealgate vanta test CA",
      "-keyout",
      "ca.key",
      "-out",
      "ca.pem",
    );
    await o("req", ...ec.slice(0, -2), "-subj", "/CN=127.0.0.1", "-keyout", "srv.key", "-out", "srv.csr");
    await writeFile(join(dir, "ext.cnf"), "subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\n");
    await o(
      "x509",
      "-req",
      "-in",
      "srv.csr",
      "-CA",
      "ca.pem",
      "-CAkey",
      "ca.key",
      "-CAcreateserial",
      "-days",
      "1",
      "-extfile",
      "ext.cnf",
      "-out",
      "srv.pem",
    );
    sim = await startSim();
    const upstream = new URL(sim.url);
    server = createTlsServer(
      { key: await readFile(join(dir, "srv.key")), cert: await readFile(join(dir, "srv.pem")) },
      (req, res) => {
        const fwd = httpRequest(
          {
            host: upstream.hostname,
            port: upstream.port,
            path: req.url,
            method: req.method,
            headers: req.headers,
          },
          (up) => {
            res.writeHead(up.statusCode ?? 502, up.headers);
            up.pipe(res);
          },
        );
        fwd.on("error", () => res.destroy());
        req.pipe(fwd);
      },
    );
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const port = (server.address() as AddressInfo).port;
    url = `https://127.0.0.1:${port}`;
  });

  afterAll(async () => {
    server?.closeAllConnections();
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    await sim?.close();
  });

  it("refuses a server whose certificate the system roots do not trust", async () => {
    const { dest } = testDestination(sim, { url, retries: 0 });
    try {
      await expect(dest.prepare()).rejects.toMatchObject({ code: "HTTP_CONNECTION" });
      expect(sim.stats().tokensMinted).toBeUndefined();
    } finally {
      await dest.close();
    }
  });

  it("pushes over https when the configured CA file vouches for the server", async () => {
    const { dest } = testDestination(sim, { url, ca: caPath });
    try {
      await push(dest, delivery(1));
      expect(sim.records()).toHaveLength(1);
    } finally {
      await dest.close();
    }
  });

  it("an unreadable CA file is a config error naming the path", () => {
    expect(() => testDestination(sim, { url, ca: "/nonexistent/ca.pem" })).toThrow(
      /destinations\.vanta-test\.ca: cannot read CA file \/nonexistent\/ca\.pem/,
    );
  });
});
