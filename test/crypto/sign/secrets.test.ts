import { readFile, readdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { inspect } from "node:util";
import { Writable } from "node:stream";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { describe, expect, it } from "vitest";
import type { CliIO } from "../../../src/cli/io.js";
import { runCli } from "../../../src/cli/program.js";
import { createLogger } from "../../../src/core/log.js";
import { signJws } from "../../../src/crypto/sign/jws.js";
import { loadSigner } from "../../../src/crypto/sign/load.js";
import { createPrivateKey } from "node:crypto";

/** Everything that could leak a key: PEM body lines, DER as hex and base64 of each private key file. */
async function secretsOf(dir: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (d: string): Promise<void> => {
    for (const e of await readdir(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) await walk(p);
      else if (e.name.endsWith(".key")) {
        const pem = await readFile(p, "utf8");
        out.push(...pem.split("\n").filter((l) => l.length > 20 && !l.startsWith("-----")));
        const der = createPrivateKey(pem).export({ type: "pkcs8", format: "der" });
        out.push(der.toString("hex").slice(-64), der.toString("base64").slice(-40));
        const jwk = createPrivateKey(pem).export({ format: "jwk" });
        if (jwk.d) out.push(jwk.d);
      }
    }
  };
  await walk(dir);
  return out;
}

describe("private keys and passphrases never reach logs, errors or output", () => {
  it("across pki init, key loading (good and bad passphrases), signing, error paths and echoed values", async () => {
    const captured: string[] = [];
    const sink = new Writable({
      write(chunk, _enc, cb) {
        captured.push(String(chunk));
        cb();
      },
    });
    const log = createLogger({ level: "trace", destination: sink });
    const io: CliIO = { out: (t) => captured.push(t), err: (t) => captured.push(t), env: {}, isTTY: false };
    const dir = await mkdtemp(join(tmpdir(), "sealgate-secrets-"));
    expect(await runCli(["pki", "init", "--out", join(dir, "pki"), "--json"], io)).toBe(0);
    const manifest = JSON.parse(captured.join(""));
    const p12Pass = (await readFile(join(dir, "pki/p12.passphrase"), "utf8")).trim();
    const envPass = "Env-Passphrase-9f8e7d";
    await writeFile(join(dir, "wrong"), "Wrong-Passphrase-1a2b3c");
    const env = { SG_P12_PASS: p12Pass, SG_OTHER: envPass };

    const good = await loadSigner(
      { type: "pkcs12", file: manifest.sealing.p12, passphrase: "${SG_P12_PASS}" },
      "signing.key",
      env,
    );
    log.info({ signer: good }, "loaded signer");
    captured.push(inspect(good, { depth: 10 }), JSON.stringify(good), String(good));
    log.info({ jws: await signJws(Buffer.from("x"), good, "t") }, "signed");
    for (const source of [
      { type: "pkcs12", file: manifest.sealing.p12, passphrase: `file:${join(dir, "wrong")}` },
      { type: "pkcs12", file: manifest.sealing.p12, passphrase: "${SG_OTHER}" },
      { type: "pem", key: manifest.sealing.p12, cert: manifest.sealing.cert },
      { type: "pem", key: manifest.approvers[0].key, cert: manifest.sealing.cert },
    ] as const) {
      const err = await loadSigner(source, "signing.key", env).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(Error);
      log.error({ err }, "key load failed");
      captured.push(inspect(err, { depth: 10 }), (err as Error).stack ?? "");
    }
    // A remote echoing the values back: no config path marks these fields, the values do.
    log.warn({ detail: `remote said: ${p12Pass}` }, `echoed: ${envPass} Wrong-Passphrase-1a2b3c`);
    log.flush();
    const text = captured.join("\n");
    expect(text.length).toBeGreaterThan(1000);
    for (const secret of [
      p12Pass,
      envPass,
      "Wrong-Passphrase-1a2b3c",
      ...(await secretsOf(join(dir, "pki"))),
    ]) {
      expect(text.includes(secret), `leaked: ${secret.slice(0, 8)}…`).toBe(false);
    }
  });
});
