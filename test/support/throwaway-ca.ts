import { execFile } from "node:child_process";
import { request as httpRequest } from "node:http";
import { createServer as createTlsServer } from "node:https";
import type { AddressInfo } from "node:net";
import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);

export interface ThrowawayTls {
  /** The CA certificate file a client is configured to trust. */
  caPath: string;
  /** The server's key and certificate (PEM) for 127.0.0.1. */
  key: string;
  cert: string;
}

/**
 * A one-day P-256 CA and a server certificate for IP 127.0.0.1 it issued, made by openssl:
 * what the TLS tests put in front of a simulator or MLflow to prove verification stays on.
 */
export async function throwawayTls(name: string): Promise<ThrowawayTls> {
  const dir = await mkdtemp(join(tmpdir(), `sealgate-${name}-tls-`));
  const o = (...args: string[]) => run("openssl", args, { cwd: dir });
  const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"];
  await o(
    "req",
    "-x509",
    ...ec,
    "-days",
    "1",
    "-subj",
    `/CN=${name} test CA`,
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
  const [key, cert] = await Promise.all([
    readFile(join(dir, "srv.key"), "utf8"),
    readFile(join(dir, "srv.pem"), "utf8"),
  ]);
  return { caPath: join(dir, "ca.pem"), key, cert };
}

export interface HttpsFront {
  /** https://127.0.0.1:<port>, served with a certificate from a throwaway CA. */
  url: string;
  /** The CA file that vouches for the front. */
  caPath: string;
  close(): Promise<void>;
}

/** An https front that forwards every request to a plain-http `upstream` (a simulator, MLflow). */
export async function httpsFront(upstream: string, name: string): Promise<HttpsFront> {
  const tls = await throwawayTls(name);
  const to = new URL(upstream);
  const server = createTlsServer({ key: tls.key, cert: tls.cert }, (req, res) => {
    const fwd = httpRequest(
      { host: to.hostname, port: to.port, path: req.url, method: req.method, headers: req.headers },
      (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      },
    );
    fwd.on("error", () => res.destroy());
    req.pipe(fwd);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `https://127.0.0.1:${(server.address() as AddressInfo).port}`,
    caPath: tls.caPath,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
