import { stat } from "node:fs/promises";
import { join } from "node:path";
import type { Readable } from "node:stream";
import { SealgateError } from "../core/errors.js";
import { HttpClient } from "../core/http/client.js";
import { HttpStatusError, redactUrl } from "../core/http/errors.js";
import type { Checkpoint } from "../evidence/ledger/checkpoint.js";
import { type Finding, finding, findingOf } from "../evidence/verify/findings.js";
import type { Verifier } from "../evidence/verify/verifier.js";
import { CHECKPOINTS, ENTRIES, type Line, lineBatches } from "../evidence/ledger/ledger.js";
import { consistencyProof, verifyConsistency } from "../evidence/ledger/merkle.js";
import { build, holdsCheckpoint, type LedgerView, readLedgerView } from "../evidence/ledger/view.js";

/*
 * `verify BUNDLE --log DIR|URL`: the live log's latest checkpoint must be signed by the CA, hold its
 * own entries, and extend the bundle's checkpoint (RFC 9162 consistency proof cut from the live
 * entries). A log rewritten after the bundle was exported cannot pass: the old tree is gone.
 * A log URL is a stranger's server: it gets a connect timeout, an idle timeout, an overall
 * deadline and a byte cap scaled to the bundle's own checkpoint, each named when hit.
 */

export interface LogFetchLimits {
  /** Time to connect and receive the response headers, per request. */
  connectMs: number;
  /** Longest silence while a body is arriving. */
  idleMs: number;
  /** Time for both files together. */
  deadlineMs: number;
  /** Byte cap of each file, per entry of the bundle's checkpoint... */
  bytesPerEntry: number;
  /** ...but never below this. */
  minBytes: number;
}

export const LOG_LIMITS: LogFetchLimits = {
  connectMs: 10_000,
  idleMs: 30_000,
  deadlineMs: 120_000,
  bytesPerEntry: 4 * 1024,
  minBytes: 16 * 2 ** 20,
};

/** A ledger directory (or a store holding one), or a daemon's base URL serving /ledger/. */
export type LiveLog = { dir: string } | LiveLogUrl;

export interface LiveLogUrl {
  url: string;
  ca?: string;
  /** The daemon's access token (daemon.http.accessToken), sent as a bearer token. */
  token?: string;
  /** A byte cap the operator chose (--log-max-mb), instead of the one scaled to the bundle. */
  maxBytes?: number;
  limits?: Partial<LogFetchLimits>;
}

/** Real lines are a few KiB; a hostile server must not make us buffer an endless one. */
const MAX_LINE = 1 << 20;

/** The live log against the bundle's checkpoint: nothing when it only grew, else why not. */
export async function verifyLogConsistency(
  log: LiveLog,
  old: Checkpoint,
  verifier: Verifier,
): Promise<Finding[]> {
  const inconsistent = (message: string) => [finding("LOG_INCONSISTENT", "inclusion", message, {})];
  let view: LedgerView;
  try {
    view =
      "url" in log ? await fetchLedgerView(log, old.size) : await readLedgerView(await ledgerDir(log.dir));
  } catch (err) {
    return [findingOf(err, "container", {}, "LOG_INCONSISTENT")];
  }
  if (!view.latest) return inconsistent("the live ledger has no signed checkpoint");
  const { checkpoint: live, findings } = await verifier.verifyCheckpoint(view.latest.signed, {});
  if (!live) return findings;
  if (live.origin !== old.origin)
    return inconsistent(`the live ledger is ${live.origin}, the bundle's is ${old.origin}`);
  if (live.size < old.size)
    return inconsistent(
      `the live checkpoint (${live.size} entries) is older than the bundle's (${old.size})`,
    );
  if (!holdsCheckpoint(view, live))
    return inconsistent(
      `the live ledger's entries do not hash to its own latest checkpoint (size ${live.size})`,
    );
  const proof = consistencyProof(view.leaves, old.size, 0, live.size);
  if (!verifyConsistency(old.size, live.size, proof, old.root, live.root))
    return inconsistent(
      `the live ledger (${live.size} entries) does not extend the bundle's checkpoint of ${old.size}: the log was rewritten`,
    );
  return [];
}

/** A store root (holding ledger/) or the ledger directory itself. */
async function ledgerDir(dir: string): Promise<string> {
  return (await stat(join(dir, "ledger", ENTRIES)).catch(() => null)) ? join(dir, "ledger") : dir;
}

const seconds = (ms: number) => `${ms / 1000} s`;

/** The limit an error from the fetch hit, in words; other errors pass through unchanged. */
function limitHit(err: unknown, url: string, limits: LogFetchLimits, sentToken: boolean): unknown {
  const codes = [err, (err as { cause?: unknown }).cause].map((e) => (e as { code?: string })?.code ?? "");
  const at = `the live log at ${url}`;
  if (codes.some((c) => c === "UND_ERR_CONNECT_TIMEOUT" || c === "UND_ERR_HEADERS_TIMEOUT"))
    return new SealgateError(
      "HTTP_TIMEOUT",
      `${at} did not answer within ${seconds(limits.connectMs)} (connect timeout)`,
    );
  if (codes.includes("UND_ERR_BODY_TIMEOUT"))
    return new SealgateError(
      "HTTP_TIMEOUT",
      `${at} sent nothing for ${seconds(limits.idleMs)} (idle timeout)`,
    );
  if (err instanceof HttpStatusError && err.status === 401)
    return new SealgateError(
      "HTTP_STATUS",
      sentToken
        ? `${at} refused the access token (401): check that --log-token resolves to daemon.http.accessToken`
        : `${at} wants the daemon's access token (401): pass --log-token '\${SEALGATE_DAEMON_TOKEN}'`,
    );
  if (err instanceof SealgateError && err.code === "HTTP_CONNECTION") {
    const code = codes.find((c) => /^E[A-Z]+$/.test(c)) ?? (err.cause as Error)?.message;
    return new SealgateError("HTTP_CONNECTION", `cannot connect to ${at} (${code})`);
  }
  return err;
}

/** The live log over HTTP, within LogFetchLimits (see the module comment). */
async function fetchLedgerView(log: LiveLogUrl, bundleSize: number): Promise<LedgerView> {
  const limits = { ...LOG_LIMITS, ...log.limits };
  const cap = log.maxBytes ?? Math.max(limits.minBytes, bundleSize * limits.bytesPerEntry);
  const capWhy = log.maxBytes
    ? "byte cap: --log-max-mb"
    : `byte cap: ${limits.bytesPerEntry} bytes per entry of the bundle's ${bundleSize}-entry checkpoint, at least ${limits.minBytes}; raise it with --log-max-mb`;
  const url = redactUrl(new URL(log.url));
  const client = new HttpClient({
    baseUrl: log.url,
    ...(log.ca ? { ca: log.ca } : {}),
    timeoutMs: limits.connectMs,
    bodyTimeoutMs: limits.idleMs,
    backoff: { retries: 0 },
  });
  const headers = {
    accept: "text/plain",
    ...(log.token ? { authorization: `Bearer ${log.token}` } : {}),
  };
  const bodies = new Set<Readable>();
  const expired = () =>
    new SealgateError(
      "HTTP_TIMEOUT",
      `the live log at ${url} took longer than ${seconds(limits.deadlineMs)} in all (overall deadline)`,
    );
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    for (const b of bodies) b.destroy(expired());
  }, limits.deadlineMs);
  const get = async function* (name: string): AsyncGenerator<Buffer> {
    let received = 0;
    const res = await client
      .stream({ method: "GET", path: `ledger/${name}`, headers })
      .catch((err: unknown) =>
        Promise.reject(timedOut ? expired() : limitHit(err, url, limits, !!log.token)),
      );
    bodies.add(res.body);
    try {
      if (timedOut) throw expired();
      for await (const chunk of res.body as AsyncIterable<Buffer>) {
        received += chunk.length;
        if (received > cap)
          throw new SealgateError(
            "HTTP_STATUS",
            `the live log at ${url} sent more than ${cap} bytes of ${name} (${capWhy})`,
          );
        yield chunk;
      }
    } catch (err) {
      throw limitHit(err, url, limits, !!log.token);
    } finally {
      bodies.delete(res.body);
      res.body.destroy();
    }
  };
  try {
    return await build(url, lastLines(get(CHECKPOINTS)), () => lineBatches(get(ENTRIES), MAX_LINE));
  } finally {
    clearTimeout(timer);
    await client.close();
  }
}

/**
 * Of checkpoints.log only the last complete line counts: one per chunk is passed on, so an
 * endless stream of short lines costs no more memory than one chunk.
 */
async function* lastLines(chunks: AsyncIterable<Buffer>): AsyncGenerator<Line[]> {
  let carry = Buffer.alloc(0);
  let offset = 0;
  const tooLong = () =>
    new SealgateError("LEDGER_CORRUPT", `a line at byte ${offset} is longer than ${MAX_LINE} bytes`);
  for await (const chunk of chunks) {
    const buf = carry.length ? Buffer.concat([carry, chunk]) : chunk;
    const end = buf.lastIndexOf(10);
    if (end >= 0) {
      const start = buf.lastIndexOf(10, end - 1) + 1;
      if (end - start > MAX_LINE) throw tooLong();
      yield [{ line: Buffer.from(buf.subarray(start, end)), offset: offset + start, complete: true }];
      offset += end + 1;
    }
    carry = Buffer.from(buf.subarray(end + 1));
    if (carry.length > MAX_LINE) throw tooLong();
  }
}
