import { type IncomingMessage, request, type ServerResponse } from "node:http";

/*
 * Forwards one request a test server received to a real upstream and relays the answer: the
 * proxies and echo servers of the tests all pass what they do not answer themselves on here.
 */

export interface ForwardOptions {
  /** Replace the upstream's answer body (Content-Length follows it). */
  rewrite?: (body: Buffer) => Buffer;
}

/**
 * Sends `req` (method, path, headers) to `upstream` with `body`: bytes the server already read,
 * or the request itself to stream it. A failed upstream connection resets the client's.
 */
export function forward(
  upstream: string,
  req: IncomingMessage,
  body: Buffer | IncomingMessage,
  res: ServerResponse,
  o: ForwardOptions = {},
): void {
  const up = new URL(upstream);
  const fwd = request(
    {
      host: up.hostname,
      port: up.port,
      method: req.method,
      path: req.url,
      headers: { ...req.headers, host: up.host },
    },
    (upRes) => {
      if (!o.rewrite) {
        res.writeHead(upRes.statusCode ?? 502, upRes.headers);
        upRes.pipe(res);
        return;
      }
      const rewrite = o.rewrite;
      const chunks: Buffer[] = [];
      upRes.on("data", (c: Buffer) => chunks.push(c));
      upRes.on("end", () => {
        const rewritten = rewrite(Buffer.concat(chunks));
        const headers = { ...upRes.headers, "content-length": String(rewritten.length) };
        delete headers["transfer-encoding"];
        res.writeHead(upRes.statusCode ?? 502, headers);
        res.end(rewritten);
      });
    },
  );
  fwd.on("error", () => res.destroy());
  if (Buffer.isBuffer(body)) fwd.end(body);
  else body.pipe(fwd);
}
