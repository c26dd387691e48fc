import { resolve } from "node:path";
import type { Command } from "commander";
import type { SealgateConfig } from "../config/schema.js";
import { SealgateError } from "../errors.js";
import { loadTrust, type Trust } from "../pki/trust.js";
import { validatePath } from "../pki/validate.js";
import { loadSigner } from "../sign/load.js";
import type { Signer } from "../sign/signer.js";
import type { CliIO } from "./io.js";

/* A reviewer's own key, for `approve` and `comment`: the options, loading, and an early check. */

export interface SignerOptions {
  key?: string;
  cert?: string;
  p12?: string;
  passphrase?: string;
}

export function addSignerOptions(cmd: Command): Command {
  return cmd
    .option("--key <file>", "your private key (PEM)")
    .option("--cert <file>", "your certificate chain (PEM)")
    .option("--p12 <file>", "your key and certificate as PKCS#12, instead of --key/--cert")
    .option(
      "--passphrase <ref>",
      "passphrase reference: ${ENV_VAR} or file:/path (never the passphrase itself)",
    );
}

export function configTrust(config: SealgateConfig, configPath: string): Promise<Trust> {
  if (!config.trust)
    throw new SealgateError("CONFIG_INVALID", `config ${configPath}: trust.anchors is required here`);
  const rel = (p: string) => resolve(configPath, "..", p);
  return loadTrust({
    anchors: rel(config.trust.anchors),
    ...(config.trust.intermediates ? { intermediates: rel(config.trust.intermediates) } : {}),
    ...(config.trust.crls ? { crls: config.trust.crls.map(rel) } : {}),
  });
}

/** Load the reviewer's signer and refuse an expired, revoked or untrusted certificate up front. */
export async function personalSigner(opts: SignerOptions, trust: Trust, io: CliIO): Promise<Signer> {
  let signer: Signer;
  if (opts.p12) {
    signer = await loadSigner(
      { type: "pkcs12", file: opts.p12, passphrase: opts.passphrase ?? "" },
      "--p12",
      io.env,
    );
  } else if (opts.key && opts.cert) {
    signer = await loadSigner(
      {
        type: "pem",
        key: opts.key,
        cert: opts.cert,
        ...(opts.passphrase ? { passphrase: opts.passphrase } : {}),
      },
      "--key",
      io.env,
    );
  } else {
    throw new SealgateError("USAGE", "give your key: --p12 FILE --passphrase REF, or --key FILE --cert FILE");
  }
  await validatePath(signer.chain[0]!, signer.chain.slice(1), trust, { at: new Date(), purpose: "approval" });
  return signer;
}
