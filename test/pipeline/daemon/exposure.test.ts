import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parseConfig } from "../../../src/app/config/load.js";
import { checkBind, isLoopbackHost, prepareHttp } from "../../../src/pipeline/daemon/exposure.js";
import type { SealgateError } from "../../../src/core/errors.js";
import { cli } from "../../support/cli.js";
import { throwawayTls } from "../../support/throwaway-ca.js";

/*
 * The bind rule: beyond loopback the daemon needs TLS and an access token, or an explicit
 * daemon.allowInsecureBind: true; the refusal (exit 2) names the keys and the fix. And the
 * token and certificate are loaded, or refused naming their key, before anything is locked.
 */

const TOKEN_ENV = { SEALGATE_DAEMON_TOKEN: "tok-3f9a1c7e5b2d4a6c8e0f" };
const daemonCfg = (daemon: object) =>
  parseConfig({ mlflow: { trackingUri: "http://127.0.0.1:5000" }, daemon }, "t.yaml").daemon;
const failure = (p: Promise<unknown>) =>
  p.then(
    () => ({ code: "none", message: "" }),
    (e: SealgateError) => ({ code: e.code, message: e.message }),
  );
const TOKEN = { accessToken: "${SEALGATE_DAEMON_TOKEN}" };
const TLS = { tls: { cert: "srv.pem", key: "srv.key" } };

describe("daemon bind rule", () => {
  it.each(["127.0.0.1", "127.8.9.10", "::1", "localhost"])("treats %s as loopback", async (host) => {
    expect(await isLoopbackHost(host)).toBe(true);
    expect(await checkBind(daemonCfg({ listen: { host } }))).toEqual([]);
  });

  it.each(["0.0.0.0", "::", "10.1.2.3", "192.168.0.7"])(
    "treats %s as reachable from the network",
    async (host) => {
      expect(await isLoopbackHost(host)).toBe(false);
    },
  );

  it("refuses a non-loopback bind without TLS and a token, naming both keys, the fix and the escape hatch", async () => {
    const e = await failure(checkBind(daemonCfg({ listen: { host: "0.0.0.0" } })));
    expect(e.code).toBe("CONFIG_INVALID");
    expect(e.message).toBe(
      "daemon.listen.host: 0.0.0.0 is not a loopback address, and without daemon.http.tls and " +
        "daemon.http.accessToken /metrics and the ledger would be served in clear text and to anyone who can " +
        'reach the port; set daemon.http.tls: { cert, key } (PEM files) and daemon.http.accessToken: "${SEALGATE_DAEMON_TOKEN}", ' +
        "or listen on 127.0.0.1, or set daemon.allowInsecureBind: true to accept this",
    );
  });

  it("refuses TLS without a token and a token without TLS, naming only what is missing", async () => {
    const noToken = await failure(checkBind(daemonCfg({ listen: { host: "0.0.0.0" }, http: TLS })));
    expect(noToken.message).toContain(
      "without daemon.http.accessToken /metrics and the ledger would be served to anyone",
    );
    expect(noToken.message).not.toContain("daemon.http.tls");
    const noTls = await failure(checkBind(daemonCfg({ listen: { host: "::" }, http: TOKEN })));
    expect(noTls.message).toContain(
      "without daemon.http.tls /metrics and the ledger would be served in clear text;",
    );
    expect(noTls.message).not.toContain("daemon.http.accessToken");
  });

  it("allows a non-loopback bind with TLS and a token, or when allowInsecureBind says so (reporting what is missing)", async () => {
    expect(await checkBind(daemonCfg({ listen: { host: "0.0.0.0" }, http: { ...TLS, ...TOKEN } }))).toEqual(
      [],
    );
    expect(await checkBind(daemonCfg({ listen: { host: "0.0.0.0" }, allowInsecureBind: true }))).toEqual([
      "daemon.http.tls",
      "daemon.http.accessToken",
    ]);
  });

  it("`sealgate daemon` refuses the bind with exit 2 before opening anything else", async () => {
    const dir = await mkdtemp(join(tmpdir(), "sealgate-bind-"));
    const cfg = join(dir, "sealgate.yaml");
    // Nothing but MLflow configured: the bind rule must speak before the missing trust anchors do.
    await writeFile(
      cfg,
      "mlflow: { trackingUri: 'http://127.0.0.1:9' }\ndaemon: { listen: { host: 0.0.0.0, port: 0 } }\n",
    );
    const r = await cli(["daemon", "--config", cfg]);
    expect(r.code).toBe(2);
    expect(r.err).toContain("daemon.listen.host: 0.0.0.0 is not a loopback address");
    expect(r.err).toContain("daemon.allowInsecureBind: true");
  });
});

describe("daemon HTTP token and certificate", () => {
  it("resolves the token as a secret reference and refuses an unset or short one, never printing it", async () => {
    const cfg = daemonCfg({ http: TOKEN });
    expect((await prepareHttp(cfg, "/x/sealgate.yaml", TOKEN_ENV)).accessToken).toBe(
      TOKEN_ENV.SEALGATE_DAEMON_TOKEN,
    );
    expect(await failure(prepareHttp(cfg, "/x/sealgate.yaml", {}))).toEqual({
      code: "SECRET_UNRESOLVED",
      message: "daemon.http.accessToken: environment variable SEALGATE_DAEMON_TOKEN is not set; export it",
    });
    const short = await failure(prepareHttp(cfg, "/x/sealgate.yaml", { SEALGATE_DAEMON_TOKEN: "hunter2" }));
    expect(short).toEqual({
      code: "CONFIG_INVALID",
      message:
        "daemon.http.accessToken: the token is 7 characters; use at least 16 (e.g. openssl rand -hex 32)",
    });
    expect(() => daemonCfg({ http: { accessToken: "hunter2hunter2hunter2" } })).toThrow(
      /daemon\.http\.accessToken/,
    );
  });

  it("loads the PEM pair relative to the config file, and names the key of a file it cannot use", async () => {
    const dir = await mkdtemp(join(tmpdir(), "sealgate-daemon-tls-"));
    const tls = await throwawayTls("daemon");
    const other = await throwawayTls("other");
    await writeFile(join(dir, "srv.pem"), tls.cert);
    await writeFile(join(dir, "srv.key"), tls.key);
    await writeFile(join(dir, "other.key"), other.key);
    const config = join(dir, "sealgate.yaml");
    const loaded = await prepareHttp(daemonCfg({ http: TLS }), config, {});
    expect(loaded.tls?.cert.toString()).toBe(tls.cert);

    const missing = await failure(
      prepareHttp(daemonCfg({ http: { tls: { cert: "nope.pem", key: "srv.key" } } }), config, {}),
    );
    expect(missing).toEqual({
      code: "CONFIG_INVALID",
      message: `daemon.http.tls.cert: cannot read ${join(dir, "nope.pem")} (ENOENT); point it at a PEM file`,
    });
    const mismatched = await failure(
      prepareHttp(daemonCfg({ http: { tls: { cert: "srv.pem", key: "other.key" } } }), config, {}),
    );
    expect(mismatched.code).toBe("CONFIG_INVALID");
    expect(mismatched.message).toMatch(
      /^daemon\.http\.tls: .* are not a usable certificate and key \(.+\); give the PEM/,
    );
    expect(mismatched.message).not.toContain("PRIVATE KEY");
  });
});
