import type { x509 } from "../pki/x509.js";

/** JOSE names for the signature schemes sealgate produces. */
export type SignatureAlgorithm = "ES256" | "ES384" | "PS256" | "PS384" | "RS256" | "RS384";

/**
 * The one extension point for keys. A signer only signs: it never exports its key, so a
 * hardware token or KMS (PKCS#11 later) fits behind the same interface.
 */
export interface Signer {
  readonly algorithm: SignatureAlgorithm;
  /** The signer's certificate first, then intermediates up to (not including) the root. */
  readonly chain: readonly x509.X509Certificate[];
  /** Sign bytes. ECDSA signatures come back as IEEE P1363 r||s (the JOSE form). */
  sign(data: Uint8Array): Promise<Uint8Array>;
  /**
   * When set, what this signer makes is time-stamped too: each CMS gets a CAdES-T signature
   * time-stamp and each checkpoint a token beside it. Undefined, or returning undefined (a TSA
   * that is not required and did not answer): no time-stamp.
   */
  readonly timestamper?: Timestamper;
}

/** An RFC 3161 client: a token (TimeStampToken DER) over `data`, e.g. a signature value. */
export interface Timestamper {
  stamp(data: Uint8Array): Promise<Uint8Array | undefined>;
}

/** `signer` whose signatures are also time-stamped by `timestamper`. */
export function withTimestamper(signer: Signer, timestamper: Timestamper): Signer {
  return {
    algorithm: signer.algorithm,
    chain: signer.chain,
    sign: (data) => signer.sign(data),
    timestamper,
  };
}
