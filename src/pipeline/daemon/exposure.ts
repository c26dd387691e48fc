import { lookup } from "node:dns/promises";
import { readFile } from "node:fs/promises";
import { isIP } from "node:net";
import { resolve } from "node:path";
import { createSecureContext } from "node:tls";
import { resolveSecret } from "../../core/secrets.js";
import { SealgateError } from "../../core/errors.js";
import type { DaemonConfig } from "./config.js";

/*
 * What the daemon's HTTP server exposes, settled before it binds. On loopback only local
 * processes can read /metrics and the ledger; on any other address they go over the network,
 * so that needs TLS and an access token, unless the config says daemon.allowInsecureBind: true
 * in so many words. `config check` can call `checkBind` to refuse what the daemon would.
 */

export interface HttpSecurity {
  /** Required as `Authorization: Bearer ...` for /metrics and /ledger/*. */
  accessToken?: string;
  tls?: { cert: Buffer; key: Buffer };
  /** Protections missing on a non-loopback bind that allowInsecureBind let through (for a warning). */
  insecure: string[];
}

/** An access token shorter than this is guessable; `openssl rand -hex 32` gives 64 characters. */
const MIN_TOKEN_LENGTH = 16;
const TOKEN_EXAMPLE = 'daemon.http.accessToken: "${SEALGATE_DAEMON_TOKEN}"';

const loopbackAddress = (a: string) =>
  /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(a) || a === "::1" || /^::ffff:127\./i.test(a);

/** An IP literal is judged as written; a name counts as loopback only if every address it resolves to is. */
export async function isLoopbackHost(host: string): Promise<boolean> {
  if (isIP(host)) return loopbackAddress(host);
  const addresses = await lookup(host, { all: true }).catch(() => []);
  return addresses.length > 0 && addresses.every((a) => loopbackAddress(a.address));
}

/** The bind rule. Throws CONFIG_INVALID naming the keys and the fixes; returns what was let through. */
export async function checkBind(cfg: DaemonConfig): Promise<string[]> {
  const missing = [
    ...(cfg.http.tls ? [] : ["daemon.http.tls"]),
    ...(cfg.http.accessToken ? [] : ["daemon.http.accessToken"]),
  ];
  if (missing.length === 0 || (await isLoopbackHost(cfg.listen.host))) return [];
  if (cfg.allowInsecureBind) return missing;
  const { tls, accessToken } = cfg.http;
  const how = [
    ...(tls ? [] : ["in clear text"]),
    ...(accessToken ? [] : ["to anyone who can reach the port"]),
  ];
  const fixes = [
    ...(tls ? [] : ["daemon.http.tls: { cert, key } (PEM files)"]),
    ...(accessToken ? [] : [TOKEN_EXAMPLE]),
  ];
  throw new SealgateError(
    "CONFIG_INVALID",
    `daemon.listen.host: ${cfg.listen.host} is not a loopback address, and without ${missing.join(" and ")} ` +
      `/metrics and the ledger would be served ${how.join(" and ")}; set ${fixes.join(" and ")}, ` +
      "or listen on 127.0.0.1, or set daemon.allowInsecureBind: true to accept this",
  );
}

/** Apply the bind rule, resolve the access token and load the TLS pair; paths are relative to the config file. */
export async function prepareHttp(
  cfg: DaemonConfig,
  configPath: string,
  env: NodeJS.ProcessEnv,
): Promise<HttpSecurity> {
  const insecure = await checkBind(cfg);
  const { accessToken, tls } = cfg.http;
  return {
    insecure,
    ...(accessToken ? { accessToken: loadToken(accessToken, env) } : {}),
    ...(tls
      ? { tls: await loadTls(resolve(configPath, "..", tls.cert), resolve(configPath, "..", tls.key)) }
      : {}),
  };
}

function loadToken(ref: string, env: NodeJS.ProcessEnv): string {
  const token = resolveSecret(ref, "daemon.http.accessToken", env);
  if (token.length < MIN_TOKEN_LENGTH)
    throw new SealgateError(
      "CONFIG_INVALID",
      `daemon.http.accessToken: the token is ${token.length} characters; use at least ${MIN_TOKEN_LENGTH} (e.g. openssl rand -hex 32)`,
    );
  return token;
}

async function loadTls(certPath: string, keyPath: string): Promise<{ cert: Buffer; key: Buffer }> {
  const read = (path: string, key: string) =>
    readFile(path).catch((err: unknown) => {
      const code = (err as { code?: string }).code ?? "read error";
      throw new SealgateError(
        "CONFIG_INVALID",
        `${key}: cannot read ${path} (${code}); point it at a PEM file`,
      );
    });
  const [cert, key] = [
    await read(certPath, "daemon.http.tls.cert"),
    await read(keyPath, "daemon.http.tls.key"),
  ];
  try {
    createSecureContext({ cert, key });
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    throw new SealgateError(
      "CONFIG_INVALID",
      `daemon.http.tls: ${certPath} and ${keyPath} are not a usable certificate and key (${why}); give the PEM certificate chain in cert and its unencrypted private key in key`,
    );
  }
  return { cert, key };
}
