import { request as httpRequest } from "node:http";
import { createServer as createTlsServer, type Server } from "node:https";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { throwawayTls } from "../../../test/support/throwaway-ca.js";
import type { VantaSimulatorHandle } from "../simulator/server.js";
import { delivery, push, startSim, testDestination } from "./helpers.js";

/** An https front for the simulator with a certificate from a throwaway CA (openssl). */
describe("TLS to Vanta", () => {
  let sim: VantaSimulatorHandle;
  let server: Server;
  let url: string;
  let caPath: string;

  beforeAll(async () => {
    const tls = await throwawayTls("vanta");
    caPath = tls.caPath;
    sim = await startSim();
    const upstream = new URL(sim.url);
    server = createTlsServer({ key: tls.key, cert: tls.cert }, (req, res) => {
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
    });
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
