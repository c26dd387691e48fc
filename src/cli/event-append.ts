import { readFile } from "node:fs/promises";
import { resolve } from "node:path";
import type { SealgateConfig } from "../app/config/schema.js";
import { openLedger } from "../app/store.js";
import { type ErrorCode, SealgateError } from "../core/errors.js";
import { HttpStatusError, jsonObject, nonEmptyString } from "../core/http/errors.js";
import { HttpClient } from "../core/http/client.js";
import { isConnectionError } from "../core/http/retry.js";
import { resolveSecret } from "../core/secrets.js";
import type { Trust } from "../crypto/pki/trust.js";
import type { EvidenceStore } from "../evidence/store/evidence-store.js";
import { appendEvent } from "../governance/events/append.js";

/*
 * How a command's signed event reaches the ledger the moment it is made: appended directly
 * when the ledger's lock is free (taken for a short wait), else handed to the daemon that holds
 * it (POST /events at daemon.listen, with daemon.http.accessToken). When the lock is held and no
 * daemon answers there, nothing is appended and the caller is told why: its MLflow tag then
 * carries the statement alone, which the sealer counts only in a cycle with no ledger events
 * (FORMAT.md, "Workflow events").
 */

/** How long a command waits for the ledger's lock before handing the event to the daemon. */
const LOCK_WAIT_MS = 1500;

export type RecordedEvent =
  { via: "ledger" | "daemon"; seq: number; time: string; digest: string } | { via: "none"; reason: string };

/** Where the configured daemon answers, if it can be reached from here (a fixed port). */
export function daemonUrl(config: SealgateConfig): string | undefined {
  const { host, port } = config.daemon.listen;
  if (port === 0) return undefined;
  // A wildcard bind is reached on loopback from the same machine.
  const reach = host === "0.0.0.0" || host === "::" ? "127.0.0.1" : host.includes(":") ? `[${host}]` : host;
  return `${config.daemon.http.tls ? "https" : "http"}://${reach}:${port}`;
}

export async function recordEvent(o: {
  config: SealgateConfig;
  configPath: string;
  env: NodeJS.ProcessEnv;
  store: EvidenceStore;
  trust: Trust;
  jws: string;
  /** Fingerprints of the sealing certificates, for sealgate's own events (default none: people's only). */
  sealing?: readonly string[];
}): Promise<RecordedEvent> {
  const { config, configPath } = o;
  if (!config.store)
    throw new SealgateError("CONFIG_INVALID", `config ${configPath}: store.path is required here`);
  let ledger;
  try {
    ledger = await openLedger(resolve(configPath, "..", config.store.path), { waitMs: LOCK_WAIT_MS });
  } catch (err) {
    if (!(err instanceof SealgateError) || err.code !== "LEDGER_LOCKED") throw err;
    return handToDaemon(o, err.message);
  }
  try {
    // Without sealing fingerprints, any event claiming to be sealgate's own is refused.
    const r = await appendEvent(
      {
        store: o.store,
        ledger,
        trust: o.trust,
        sealing: o.sealing ?? [],
        maxClockSkew: config.events.maxClockSkew,
      },
      o.jws,
    );
    return { via: "ledger", seq: r.seq, time: r.time, digest: r.digest };
  } finally {
    await ledger.close();
  }
}

const DaemonAnswer = (body: unknown) => {
  const b = body as { seq?: unknown; time?: unknown; digest?: unknown };
  if (typeof b?.seq !== "number" || typeof b.time !== "string" || typeof b.digest !== "string")
    throw new SealgateError("HTTP_STATUS", "the daemon's answer to POST /events is not {seq, time, digest}");
  return { seq: b.seq, time: b.time, digest: b.digest };
};

async function handToDaemon(
  o: { config: SealgateConfig; configPath: string; env: NodeJS.ProcessEnv; jws: string },
  locked: string,
): Promise<RecordedEvent> {
  const url = daemonUrl(o.config);
  if (!url) return { via: "none", reason: `${locked}; and daemon.listen names no fixed port to hand it to` };
  const { http } = o.config.daemon;
  const token = http.accessToken
    ? resolveSecret(http.accessToken, "daemon.http.accessToken", o.env)
    : undefined;
  const client = new HttpClient({
    baseUrl: url,
    timeoutMs: 15_000,
    ...(http.tls ? { ca: await readFile(resolve(o.configPath, "..", http.tls.cert), "utf8") } : {}),
    ...(token ? { authHeaders: () => ({ authorization: `Bearer ${token}` }) } : {}),
    errorBody: (text, type) => {
      const j = jsonObject(text, type);
      const code = nonEmptyString(j?.code);
      return { ...(code ? { code } : {}), message: nonEmptyString(j?.reason) ?? text.trim() };
    },
  });
  try {
    const body = await client.json({
      method: "POST",
      path: "/events",
      body: o.jws,
      headers: { "content-type": "application/jose" },
      // An append is not idempotent to the caller's eyes; the daemon dedupes a repeat anyway.
      retries: 0,
    });
    return { via: "daemon", ...DaemonAnswer(body) };
  } catch (err) {
    if (isConnectionError(err) || (err instanceof SealgateError && err.code === "HTTP_CONNECTION"))
      return { via: "none", reason: `${locked}; and no daemon answers at ${url}` };
    if (err instanceof HttpStatusError && err.status === 422 && err.remote.code) {
      // The daemon's refusal, with its own code when it is one of sealgate's (exit code and all).
      const known = new SealgateError(err.remote.code as ErrorCode, "").exitCode !== 3;
      throw new SealgateError(
        known ? (err.remote.code as ErrorCode) : "EVENT_INVALID",
        `the daemon refused the event: ${err.remote.message}`,
        { cause: err },
      );
    }
    throw err;
  } finally {
    await client.close();
  }
}
