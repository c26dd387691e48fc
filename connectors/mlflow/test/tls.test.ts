import { execFile } from "node:child_process";
import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import { request as httpRequest } from "node:http";
import { createServer as createTlsServer, type Server } from "node:https";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { SealgateError } from "../../../src/errors.js";
import { MlflowClient } from "../client.js";
import { MlflowConfig } from "../config.js";
import { mlflow } from "./helpers.js";

const run = promisify(execFile);

/** An https front for the real server with a certificate from a throwaway CA (openssl). */
describe("TLS to MLflow", () => {
  let server: Server;
  let url: string;
  let caPath: string;
  beforeAll(async () => {
    const dir = await mkdtemp(join(tmpdir(), "sealgate-tls-"));
    caPath = join(dir, "ca.pem");
    const o = (...args: string[]) => run("openssl", args, { cwd: dir });
    const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"];
    await o(
      "req",
      "-x509",
      ...ec,
      "-days",
      "1",
      "-subj",
      "/CN=sealgate test CA",
      "-keyout",
      "ca.key",
      "-out",
      "ca.pem",
    );
    await o("req", ...ec, "-subj", "/CN=127.0.0.1", "-keyout", "srv.key", "-out", "srv.csr");
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
    const upstream = new URL(mlflow().url);
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
        req.pipe(fwd);
      },
    );
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
