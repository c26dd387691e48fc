import type { Readable } from "node:stream";
import { SealgateError } from "../core/errors.js";
import { HttpClient } from "../core/http/client.js";
import { HttpStatusError, redactUrl } from "../core/http/errors.js";
import {
  CHECKPOINTS,
  ENTRIES,
  type LedgerCheckpoint,
  type LedgerReader,
  type Line,
  lineBatches,
  type StoredEntry,
} from "../evidence/ledger/ledger.js";
import { parseCheckpointLine, storedEntries } from "../evidence/ledger/view.js";

/*
 * A daemon's ledger over HTTP (its /ledger/ routes), as a LedgerReader for `verify BUNDLE
 * --log URL`. The URL is a stranger's server: it gets a connect timeout, an idle timeout, an
 * overall deadline (from the first request to close()) and a byte cap per file, each named
 * when hit.
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

export class HttpLedgerReader implements LedgerReader {
  private readonly limits: LogFetchLimits;
  private readonly cap: number;
  private readonly capWhy: string;
  private readonly url: string;
  private readonly client: HttpClient;
  private readonly bodies = new Set<Readable>();
  private timer: NodeJS.Timeout | undefined;
  private timedOut = false;

  /** `bundleSize`: the entries of the bundle's checkpoint, which scale the byte cap. */
  constructor(
    private readonly log: LiveLogUrl,
    bundleSize: number,
  ) {
    const limits = (this.limits = { ...LOG_LIMITS, ...log.limits });
    this.cap = log.maxBytes ?? Math.max(limits.minBytes, bundleSize * limits.bytesPerEntry);
    this.capWhy = log.maxBytes
      ? "byte cap: --log-max-mb"
      : `byte cap: ${limits.bytesPerEntry} bytes per entry of the bundle's ${bundleSize}-entry checkpoint, at least ${limits.minBytes}; raise it with --log-max-mb`;
    this.url = redactUrl(new URL(log.url));
    this.client = new HttpClient({
      baseUrl: log.url,
      ...(log.ca ? { ca: log.ca } : {}),
      timeoutMs: limits.connectMs,
      bodyTimeoutMs: limits.idleMs,
      backoff: { retries: 0 },
    });
  }

  read(range?: { from?: number; to?: number }): AsyncIterable<StoredEntry[]> {
    return storedEntries(this.url, lineBatches(this.get(ENTRIES), MAX_LINE), range);
  }

  async *checkpoints(): AsyncGenerator<LedgerCheckpoint> {
    let n = 0;
    for await (const batch of lineBatches(this.get(CHECKPOINTS), MAX_LINE))
      for (const { line, complete } of batch)
        if (complete) yield parseCheckpointLine(this.url, line, `checkpoint #${n++}`);
  }

  entryLines(): AsyncIterable<Line[]> {
    return lineBatches(this.get(ENTRIES), MAX_LINE);
  }

  checkpointLines(): AsyncIterable<Line[]> {
    return lineBatches(this.get(CHECKPOINTS), MAX_LINE);
  }

  /** The daemon serves the two logs only, not ORIGIN: each checkpoint names its own origin. */
  async readOrigin(): Promise<string | undefined> {
    return undefined;
  }

  async latestCheckpoint(): Promise<LedgerCheckpoint | undefined> {
    let last: Buffer | undefined;
    for await (const batch of lastLines(this.get(CHECKPOINTS))) for (const { line } of batch) last = line;
    return last && parseCheckpointLine(this.url, last, "the last checkpoint");
  }

  async close(): Promise<void> {
    clearTimeout(this.timer);
    await this.client.close();
  }

  private expired() {
    return new SealgateError(
      "HTTP_TIMEOUT",
      `the live log at ${this.url} took longer than ${seconds(this.limits.deadlineMs)} in all (overall deadline)`,
    );
  }

  /** One file's body, within the limits. */
  private async *get(name: string): AsyncGenerator<Buffer> {
    const { url, limits, cap, bodies } = this;
    const sentToken = !!this.log.token;
    this.timer ??= setTimeout(() => {
      this.timedOut = true;
      for (const b of bodies) b.destroy(this.expired());
    }, limits.deadlineMs);
    if (this.timedOut) throw this.expired();
    const headers = {
      accept: "text/plain",
      ...(this.log.token ? { authorization: `Bearer ${this.log.token}` } : {}),
    };
    let received = 0;
    const res = await this.client
      .stream({ method: "GET", path: `ledger/${name}`, headers })
      .catch((err: unknown) =>
        Promise.reject(this.timedOut ? this.expired() : limitHit(err, url, limits, sentToken)),
      );
    bodies.add(res.body);
    try {
      if (this.timedOut) throw this.expired();
      for await (const chunk of res.body as AsyncIterable<Buffer>) {
        received += chunk.length;
        if (received > cap)
          throw new SealgateError(
            "HTTP_STATUS",
            `the live log at ${url} sent more than ${cap} bytes of ${name} (${this.capWhy})`,
          );
        yield chunk;
      }
    } catch (err) {
      throw limitHit(err, url, limits, sentToken);
    } finally {
      bodies.delete(res.body);
      res.body.destroy();
    }
  }
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
