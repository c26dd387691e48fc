// A real RFC 3161 time-stamp authority for tests and the demo: OpenSSL's own `openssl ts -reply`
// behind a tiny HTTP front, signing with a TSA key and certificate (the dev PKI's tsa.key and
// tsa.pem: EKU timeStamping, critical). Plain Node, so the demo can spawn it by path:
//   node test/support/tsa.mjs --key tsa.key --cert tsa.pem   (prints its URL, serves until killed)
// It is not sealgate code, so it can judge sealgate's client.
import { Buffer } from "node:buffer";
import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { pathToFileURL } from "node:url";
import { promisify } from "node:util";

const run = promisify(execFile);
const MAX_QUERY = 64 * 1024;

/** Start the TSA on 127.0.0.1 (an ephemeral port unless `port` is given). */
export async function startTsa({ key, cert, port = 0 }) {
  const dir = await mkdtemp(join(tmpdir(), "sealgate-tsa-"));
  // tsa.pem holds the TSA certificate, then its issuing CA: openssl wants them apart.
  const [leafPem, ...rest] = (await readFile(cert, "utf8")).split(/(?<=-----END CERTIFICATE-----\n?)/);
  await writeFile(join(dir, "signer.pem"), leafPem);
  await writeFile(join(dir, "chain.pem"), rest.join(""));
  await writeFile(join(dir, "serial"), "01\n");
  await writeFile(
    join(dir, "tsa.cnf"),
    [
      "[ tsa ]",
      "default_tsa = tsa_config",
      "[ tsa_config ]",
      `serial = ${join(dir, "serial")}`,
      "crypto_device = builtin",
      "signer_digest = sha256",
      "default_policy = 1.3.6.1.4.1.4146.2.3",
      "other_policies = 1.2.3.4.1",
      "digests = sha256, sha384, sha512",
      "accuracy = secs:1",
      "ordering = yes",
      "tsa_name = yes",
      "ess_cert_id_chain = no",
      "ess_cert_id_alg = sha256",
    ].join("\n") + "\n",
  );
  const state = { requests: 0 };
  let seq = 0;
  // One openssl at a time: they share the serial file.
  let queue = Promise.resolve();
  const reply = async (query) => {
    const n = ++seq;
    const q = join(dir, `${n}.tsq`);
    const r = join(dir, `${n}.tsr`);
    await writeFile(q, query);
    await run("openssl", [
      "ts",
      "-reply",
      "-config",
      join(dir, "tsa.cnf"),
      "-queryfile",
      q,
      "-inkey",
      key,
      "-signer",
      join(dir, "signer.pem"),
      "-chain",
      join(dir, "chain.pem"),
      "-out",
      r,
    ]);
    const out = await readFile(r);
    await rm(q);
    await rm(r);
    return out;
  };
  const server = createServer((req, res) => {
    if (req.method !== "POST" || req.headers["content-type"] !== "application/timestamp-query") {
      res.writeHead(415, { "content-type": "text/plain" });
      res.end("POST application/timestamp-query\n");
      return;
    }
    const chunks = [];
    let size = 0;
    req.on("data", (c) => {
      size += c.length;
      if (size <= MAX_QUERY) chunks.push(c);
    });
    req.on("end", () => {
      state.requests++;
      const job = queue.then(() => reply(Buffer.concat(chunks)));
      queue = job.catch(() => {});
      job.then(
        (body) => {
          res.writeHead(200, { "content-type": "application/timestamp-reply" });
          res.end(body);
        },
        (e) => {
          res.writeHead(500, { "content-type": "text/plain" });
          res.end(String(e.message));
        },
      );
    });
  });
  await new Promise((resolve) => server.listen(port, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    get requests() {
      return state.requests;
    },
    stop: () =>
      new Promise((resolve) => {
        server.closeAllConnections?.();
        server.close(() => rm(dir, { recursive: true, force: true }).then(() => resolve()));
      }),
  };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const arg = (name) => {
    const i = process.argv.indexOf(name);
    if (i < 0 || !process.argv[i + 1]) throw new Error(`usage: tsa.mjs --key FILE --cert FILE [--port N]`);
    return process.argv[i + 1];
  };
  const port = process.argv.includes("--port") ? Number(arg("--port")) : 0;
  const tsa = await startTsa({ key: arg("--key"), cert: arg("--cert"), port });
  process.stdout.write(`${tsa.url}\n`);
  const stop = () => tsa.stop().then(() => process.exit(0));
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
}
