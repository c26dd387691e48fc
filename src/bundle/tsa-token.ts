import * as pkijs from "pkijs";
import { SealgateError } from "../core/errors.js";
import { toPem, x509 } from "../crypto/pki/x509.js";

/*
 * What a bundle reads from an RFC 3161 TimeStampToken without judging it (the Verifier does
 * that): its genTime, for VERIFY.md's -attime, and the certificates it carries, whose CAs the
 * bundle also holds as certs/tsa-chain.pem for `openssl ts -verify -untrusted`.
 */

export function tokenContents(token: Uint8Array): { genTime: Date; certificates: Buffer[] } {
  try {
    const signed = new pkijs.SignedData({
      schema: pkijs.ContentInfo.fromBER(Uint8Array.from(token).buffer).content,
    });
    const info = pkijs.TSTInfo.fromBER(signed.encapContentInfo.eContent!.getValue());
    const certificates = (signed.certificates ?? []).map((c) => Buffer.from(c.toSchema().toBER(false)));
    return { genTime: info.genTime, certificates };
  } catch (cause) {
    throw new SealgateError("BUNDLE_INVALID", "bundle: a time-stamp token is not a readable TimeStampToken", {
      cause,
    });
  }
}

const isCa = (der: Buffer) => {
  try {
    return (
      new x509.X509Certificate(new Uint8Array(der)).getExtension(x509.BasicConstraintsExtension)?.ca === true
    );
  } catch {
    return false;
  }
};

/**
 * certs/tsa-chain.pem: the CA certificates the token carries (basicConstraints cA), as PEM, in
 * the token's order (FORMAT.md 17.2); the TSA's own certificate stays in the token.
 */
export const tsaChainPem = (token: Uint8Array): string =>
  tokenContents(token)
    .certificates.filter(isCa)
    .map((c) => toPem(c, "CERTIFICATE"))
    .join("");
