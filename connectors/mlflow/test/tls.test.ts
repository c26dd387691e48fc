import { request as httpRequest } from "node:http";
import { createServer as createTlsServer, type Server } from "node:https";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { throwawayTls } from "../../../test/support/throwaway-ca.js";
import type { SealgateError } from "../../../src/errors.js";
import { MlflowClient } from "../client.js";
import { MlflowConfig } from "../config.js";
import { mlflow } from "./helpers.js";

/** An https front for the real server with a certificate from a throwaway CA (openssl). */
describe("TLS to MLflow", () => {
  let server: Server;
  let url: string;
  let caPath: string;
  beforeAll(async () => {
    const tls = await throwawayTls("mlflow");
    caPath = tls.caPath;
    const upstream = new URL(mlflow().url);
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
      req.pipe(fwd);
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => server.close());

  const client = (caBundle?: string) =>
    new MlflowClient(
      MlflowConfig.parse({ trackingUri: url, auth: { type: "none" }, ...(caBundle ? { caBundle } : {}) }),
      {
        http: { backoff: { retries: 0 } },
      },
    );

  it("trusts the server when its CA is in the configured bundle", async () => {
    expect((await client(caPath).registeredModel("credit-risk")).name).toBe("credit-risk");
  });

  it("refuses the server without the bundle: verification stays on", async () => {
    const err = (await client()
      .registeredModel("credit-risk")
      .catch((e: unknown) => e)) as SealgateError;
    expect(err.code).toBe("HTTP_CONNECTION");
    expect(err.message).toMatch(/certificate/i);
  });

  it("names the config key when the bundle cannot be read", () => {
    expect(() => client("/nonexistent/ca.pem")).toThrowError(
      "mlflow.caBundle: cannot read /nonexistent/ca.pem",
    );
  });
});
