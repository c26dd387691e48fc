import { createPrivateKey, createPublicKey, type KeyObject } from "node:crypto";
import { readFile } from "node:fs/promises";
import { resolveSecret } from "../../core/secrets.js";
import { SealgateError } from "../../core/errors.js";
import { readPkcs12 } from "../pki/pkcs12.js";
import { parsePemCertificates, type x509 } from "../pki/x509.js";
import { KeySigner, type RsaScheme } from "./key-signer.js";

export type KeySource =
  | { type: "pem"; key: string; cert: string; passphrase?: string; rsa?: RsaScheme }
  | { type: "pkcs12"; file: string; passphrase: string; rsa?: RsaScheme };

async function read(path: string, what: string): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch (cause) {
    throw new SealgateError(
      "KEY_UNREADABLE",
      `cannot read ${what} ${path} (${(cause as { code?: string }).code})`,
      {
        cause,
      },
    );
  }
}

/**
 * Open a signing key. Passphrases are secret references (`${ENV}` or `file:`), resolved here and
 * never logged; `where` names the config path for error messages.
 */
export async function loadSigner(
  source: KeySource,
  where: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<KeySigner> {
  if (source.type === "pem") {
    const pem = await read(source.key, "private key");
    const passphrase = source.passphrase
      ? resolveSecret(source.passphrase, `${where}.passphrase`, env)
      : undefined;
    let key: KeyObject;
    try {
      key = createPrivateKey({ key: pem, format: "pem", ...(passphrase ? { passphrase } : {}) });
    } catch (cause) {
      const encrypted = pem.includes("ENCRYPTED");
      throw new SealgateError(
        "KEY_UNREADABLE",
        encrypted
          ? `${where}: ${source.key} is encrypted and the passphrase does not open it`
          : `${where}: ${source.key} is not a PEM private key (PKCS#8, or SEC1/PKCS#1)`,
        { cause },
      );
    }
    const chain = parsePemCertificates(
      (await read(source.cert, "certificate")).toString("utf8"),
      source.cert,
    );
    if (chain.length === 0)
      throw new SealgateError("KEY_UNREADABLE", `${where}: ${source.cert} holds no certificate`);
    return new KeySigner(key, chain, source.rsa);
  }
  const passphrase = resolveSecret(source.passphrase, `${where}.passphrase`, env);
  const { pkcs8, certificates } = await readPkcs12(
    await read(source.file, "PKCS#12 file"),
    passphrase,
    source.file,
  );
  const key = createPrivateKey({ key: Buffer.from(pkcs8), format: "der", type: "pkcs8" });
  return new KeySigner(key, orderChain(key, certificates), source.rsa);
}

/** PKCS#12 files list certificates in any order: put the key's own certificate first. */
function orderChain(key: KeyObject, certs: x509.X509Certificate[]): x509.X509Certificate[] {
  const spki = createPublicKey(key).export({ type: "spki", format: "der" });
  const leaf = certs.find((c) => Buffer.from(c.publicKey.rawData).equals(spki));
  if (!leaf)
    throw new SealgateError("KEY_CERT_MISMATCH", "the PKCS#12 file holds no certificate for its key");
  const ordered = [leaf];
  for (let cur = leaf; ;) {
    const next = certs.find(
      (c) => !ordered.includes(c) && c.subject === cur.issuer && cur.subject !== cur.issuer,
    );
    if (!next) break;
    ordered.push(next);
    cur = next;
  }
  return ordered;
}
