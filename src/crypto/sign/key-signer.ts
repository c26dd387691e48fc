import { createPublicKey, type KeyObject, sign as nodeSign, constants } from "node:crypto";
import { SealgateError } from "../../core/errors.js";
import type { x509 } from "../pki/x509.js";
import type { SignatureAlgorithm, Signer } from "./signer.js";

export type RsaScheme = "pss" | "pkcs1";

const HASH: Record<SignatureAlgorithm, string> = {
  ES256: "sha256",
  ES384: "sha384",
  PS256: "sha256",
  PS384: "sha384",
  RS256: "sha256",
  RS384: "sha384",
};

/** The algorithm a key implies: the curve fixes ECDSA's; RSA uses PSS unless told otherwise. */
export function algorithmFor(key: KeyObject, rsa: RsaScheme = "pss"): SignatureAlgorithm {
  const type = key.asymmetricKeyType;
  const details = key.asymmetricKeyDetails ?? {};
  if (type === "ec") {
    if (details.namedCurve === "prime256v1") return "ES256";
    if (details.namedCurve === "secp384r1") return "ES384";
    throw new SealgateError(
      "KEY_UNSUPPORTED",
      `EC curve ${details.namedCurve} is not supported; use P-256 or P-384`,
    );
  }
  if (type === "rsa") {
    if ((details.modulusLength ?? 0) < 2048) {
      throw new SealgateError(
        "KEY_UNSUPPORTED",
        `RSA keys need at least 2048 bits, not ${details.modulusLength}`,
      );
    }
    return rsa === "pss" ? "PS256" : "RS256";
  }
  throw new SealgateError(
    "KEY_UNSUPPORTED",
    `${type} keys are not supported; use ECDSA P-256/P-384 or RSA 2048+`,
  );
}

/** A Signer over a private key held in this process. */
export class KeySigner implements Signer {
  readonly algorithm: SignatureAlgorithm;

  constructor(
    private readonly key: KeyObject,
    readonly chain: readonly x509.X509Certificate[],
    rsa: RsaScheme = "pss",
  ) {
    if (chain.length === 0) throw new SealgateError("KEY_UNSUPPORTED", "a signer needs its certificate");
    this.algorithm = algorithmFor(key, rsa);
    const keySpki = createPublicKey(key).export({ type: "spki", format: "der" });
    const certSpki = Buffer.from(chain[0]!.publicKey.rawData);
    if (!keySpki.equals(certSpki)) {
      throw new SealgateError(
        "KEY_CERT_MISMATCH",
        `the private key does not belong to certificate ${chain[0]!.subject}; check that key and cert files are a pair`,
      );
    }
  }

  async sign(data: Uint8Array): Promise<Uint8Array> {
    const alg = this.algorithm;
    const options =
      alg[0] === "E"
        ? { key: this.key, dsaEncoding: "ieee-p1363" as const }
        : alg[0] === "P"
          ? { key: this.key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: alg === "PS256" ? 32 : 48 }
          : { key: this.key, padding: constants.RSA_PKCS1_PADDING };
    return new Uint8Array(nodeSign(HASH[alg], data, options));
  }

  // Keep the key out of console.log, util.inspect and JSON.stringify.
  toJSON() {
    return { algorithm: this.algorithm, subject: this.chain[0]?.subject };
  }
  [Symbol.for("nodejs.util.inspect.custom")]() {
    return `KeySigner(${this.algorithm}, ${this.chain[0]?.subject})`;
  }
}

export const hashOf = (alg: SignatureAlgorithm) => HASH[alg];
