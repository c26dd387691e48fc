import { execFile } from "node:child_process";
import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import type { DevPkiManifest } from "../../src/crypto/pki/dev-pki.js";

const run = promisify(execFile);

/**
 * A real RFC 3161 time-stamp authority: `openssl ts -reply` behind a tiny HTTP wrapper,
 * signing with the dev PKI's TSA certificate. Not sealgate code, so it can judge sealgate's client.
 */
export async function startTsa(
  pki: DevPkiManifest,
): Promise<{ url: string; requests: number; stop(): Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), "sealgate-tsa-"));
  const [leafPem, issuingPem] = (await readFile(pki.tsa.cert, "utf8")).split(
    /(?<=-----END CERTIFICATE-----\n)/,
  );
  await writeFile(join(dir, "signer.pem"), leafPem!);
  await writeFile(join(dir, "chain.pem"), issuingPem ?? "");
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
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", async () => {
      state.requests++;
      const n = ++seq;
      const q = join(dir, `${n}.tsq`);
      const r = join(dir, `${n}.tsr`);
      try {
        await writeFile(q, Buffer.concat(chunks));
        await run("openssl", [
          "ts",
          "-reply",
          "-config",
          join(dir, "tsa.cnf"),
          "-queryfile",
          q,
          "-inkey",
          pki.tsa.key,
          "-signer",
          join(dir, "signer.pem"),
          "-chain",
          join(dir, "chain.pem"),
          "-out",
          r,
        ]);
        res.writeHead(200, { "content-type": "application/timestamp-reply" });
        res.end(await readFile(r));
      } catch (e) {
        res.writeHead(500, { "content-type": "text/plain" });
        res.end(String((e as Error).message));
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    get requests() {
      return state.requests;
    },
    stop: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
