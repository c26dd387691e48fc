import type { IncomingMessage, ServerResponse } from "node:http";
import { SealgateError } from "../../core/errors.js";
import type { AppendedEvent } from "../../governance/events/append.js";

/*
 * POST /events: how a person's signed event reaches the ledger while the daemon holds its lock
 * (the CLI appends directly when the lock is free). The body is untrusted: bounded before it is
 * read, then one compact JWS handed to appendEvent, which verifies signature, chain and skew
 * before anything is appended. 200 with {seq, time, digest} once the entry is durable; 413 too
 * large; 422 refused (the code and reason in the body); 503 while the daemon may not append.
 */

/** A compact event JWS with a certificate chain is a few KiB; anything near this is not one. */
export const MAX_EVENT_BYTES = 64 * 1024;

export interface EventsRoute {
  /** Verify and append (governance/events/append.ts appendEvent over the daemon's store and ledger). */
  append: (jws: string) => Promise<AppendedEvent>;
  /** Why nothing may be appended now (say, start-up verification found problems), or null. */
  blocked: () => string | null;
  /** Told of every refusal, for the log. */
  onRefuse?: (code: string, reason: string) => void;
  maxBytes?: number;
}

const json = (res: ServerResponse, status: number, body: unknown, close = false) => {
  if (close) res.on("finish", () => res.req.socket.destroy());
  res
    .writeHead(status, {
      "content-type": "application/json",
      "cache-control": "no-store",
      ...(close ? { connection: "close" } : {}),
    })
    .end(`${JSON.stringify(body)}\n`);
};

/** The status a refusal answers with: 422 for what the sender must fix, 503 for the daemon's own trouble. */
function statusOf(err: unknown): number {
  if (!(err instanceof SealgateError)) return 500;
  return err.exitCode === 1 || err.exitCode === 2 ? 422 : 503;
}

export function eventsHandler(route: EventsRoute) {
  const maxBytes = route.maxBytes ?? MAX_EVENT_BYTES;
  return (req: IncomingMessage, res: ServerResponse): void => {
    const refuse = (status: number, code: string, reason: string, close = false) => {
      route.onRefuse?.(code, reason);
      if (res.headersSent) return void res.destroy();
      json(res, status, { code, reason }, close);
    };
    const why = route.blocked();
    if (why) return refuse(503, "DAEMON_NOT_APPENDING", why);
    // A sender may lie about or omit the length: both the header and the bytes read are bounded.
    const declared = Number(req.headers["content-length"]);
    if (declared > maxBytes)
      return refuse(
        413,
        "EVENT_TOO_LARGE",
        `body is ${declared} bytes, over the ${maxBytes}-byte limit`,
        true,
      );
    const chunks: Buffer[] = [];
    let size = 0;
    let refused = false;
    req.on("data", (c: Buffer) => {
      if (refused) return;
      size += c.length;
      if (size > maxBytes) {
        refused = true;
        return refuse(413, "EVENT_TOO_LARGE", `body passed ${maxBytes} bytes`, true);
      }
      chunks.push(c);
    });
    req.on("end", () => {
      if (refused) return;
      const jws = Buffer.concat(chunks).toString("latin1").trim();
      // Compact JWS is base64url and dots only: anything else is refused before parsing.
      if (!/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/.test(jws))
        return refuse(422, "SIGNATURE_MALFORMED", "the body is not one compact JWS");
      route
        .append(jws)
        .then((r) => json(res, 200, { seq: r.seq, time: r.time, digest: r.digest, already: !!r.already }))
        .catch((err: unknown) =>
          refuse(
            statusOf(err),
            err instanceof SealgateError ? err.code : "internal",
            err instanceof Error ? err.message : String(err),
          ),
        );
    });
  };
}
