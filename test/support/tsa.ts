import type { DevPkiManifest } from "../../src/crypto/pki/dev-pki.js";
import { type RunningTsa, startTsa as startTsaAt } from "./tsa.mjs";

/**
 * A real RFC 3161 time-stamp authority (tsa.mjs: `openssl ts -reply` behind a tiny HTTP front)
 * signing with the dev PKI's TSA certificate.
 */
export function startTsa(pki: DevPkiManifest): Promise<RunningTsa> {
  return startTsaAt({ key: pki.tsa.key, cert: pki.tsa.cert });
}
