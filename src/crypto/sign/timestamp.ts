import { createHash, randomBytes } from "node:crypto";
import * as asn1js from "asn1js";
import * as pkijs from "pkijs";
import { SealgateError } from "../../core/errors.js";
import { HttpClient } from "../../core/http/client.js";
import type { Trust } from "../pki/trust.js";
import { validatePath } from "../pki/validate.js";
import { x509 } from "../pki/x509.js";
import { checkUnsignedFields } from "./signed-data-strict.js";
import type { Timestamper } from "./signer.js";

/*
 * RFC 3161 time-stamps: independent evidence of *when* a signature existed, from a TSA the
 * organisation trusts. sealgate asks for a token over the signature bytes and keeps the token
 * (a CMS SignedData over TSTInfo) beside it; verification pins the TSA's chain like any other.
 */

const ID_TST_INFO = "1.2.840.113549.1.9.16.1.4";
const ID_SIGNED_DATA = "1.2.840.113549.1.7.2";
const HASH_OID = { sha256: "2.16.840.1.101.3.4.2.1", sha384: "2.16.840.1.101.3.4.2.2" } as const;
type Hash = keyof typeof HASH_OID;

const ab = (b: Uint8Array): ArrayBuffer =>
  b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;

export interface TimestampRequest {
  der: Uint8Array;
  nonce: bigint;
  hash: Hash;
}

export function timestampRequest(
  data: Uint8Array,
  hash: Hash = "sha256",
  policyOid?: string,
): TimestampRequest {
  // A positive INTEGER in minimal DER: a zero first byte would need the second's top bit set,
  // and OpenSSL refuses any other form ("Bad request format"). 62 random bits remain.
  const nonceBytes = randomBytes(8);
  nonceBytes[0] = (nonceBytes[0]! & 0x3f) | 0x40;
  const req = new pkijs.TimeStampReq({
    version: 1,
    messageImprint: new pkijs.MessageImprint({
      hashAlgorithm: new pkijs.AlgorithmIdentifier({
        algorithmId: HASH_OID[hash],
        algorithmParams: new asn1js.Null(),
      }),
      hashedMessage: new asn1js.OctetString({ valueHex: ab(createHash(hash).update(data).digest()) }),
    }),
    nonce: new asn1js.Integer({ valueHex: ab(nonceBytes) }),
    certReq: true,
    ...(policyOid ? { reqPolicy: policyOid } : {}),
  });
  return {
    der: new Uint8Array(req.toSchema().toBER(false)),
    nonce: BigInt(`0x${nonceBytes.toString("hex")}`),
    hash,
  };
}

/** Ask the TSA for a token over `data`; returns the token (ContentInfo DER) only if it is granted and matches. */
export async function requestTimestamp(
  tsa: HttpClient,
  path: string,
  data: Uint8Array,
  hash: Hash = "sha256",
  policyOid?: string,
) {
  const request = timestampRequest(data, hash, policyOid);
  const res = await tsa.stream({
    method: "POST",
    path,
    body: request.der,
    headers: { "content-type": "application/timestamp-query", accept: "application/timestamp-reply" },
  });
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of res.body) {
    size += (c as Buffer).length;
    if (size > 1 << 20) throw new SealgateError("TSA_FAILED", "TSA reply larger than 1 MiB");
    chunks.push(c as Buffer);
  }
  let resp: pkijs.TimeStampResp;
  try {
    resp = pkijs.TimeStampResp.fromBER(ab(Buffer.concat(chunks)));
  } catch (cause) {
    throw new SealgateError("TSA_FAILED", "TSA reply is not a TimeStampResp", { cause });
  }
  const status = resp.status.status;
  if ((status !== 0 && status !== 1) || !resp.timeStampToken) {
    const text = resp.status.statusStrings?.map((s) => s.valueBlock.value).join("; ") ?? "";
    throw new SealgateError(
      "TSA_FAILED",
      `TSA refused the request (PKIStatus ${status}${text ? `: ${text}` : ""})`,
    );
  }
  const token = new Uint8Array(resp.timeStampToken.toSchema().toBER(false));
  // The reply is untrusted until it names our nonce and our hash; checked again on every verify.
  const info = parseToken(token).tstInfo;
  if (
    !info.nonce ||
    BigInt(`0x${Buffer.from(info.nonce.valueBlock.valueHexView).toString("hex")}`) !== request.nonce
  ) {
    throw new SealgateError("TSA_FAILED", "TSA reply does not carry the nonce of the request");
  }
  if (policyOid && info.policy !== policyOid)
    throw new SealgateError("TSA_FAILED", `TSA answered under policy ${info.policy}, not ${policyOid}`);
  return token;
}

export interface TsaConfig {
  url: string;
  policyOid?: string | undefined;
  required: boolean;
}

/**
 * The Timestamper a configured TSA gives signers. A required TSA that fails stops the seal
 * (TSA_FAILED, exit 3: nothing is written, the daemon retries later); one not required is
 * skipped with a warning. Errors name the URL without its userinfo. With `trust` (the config's
 * caFile), each token is verified on receipt: imprint, TSA signature, chain, timeStamping EKU.
 */
export function httpTimestamper(
  cfg: TsaConfig,
  opts: { http?: HttpClient; warn?: (message: string) => void; trust?: Trust } = {},
): Timestamper & { close(): Promise<void> } {
  const url = new URL(cfg.url);
  url.username = "";
  url.password = "";
  const shown = url.toString();
  const http = opts.http ?? new HttpClient({ baseUrl: cfg.url, timeoutMs: 10_000, backoff: { retries: 1 } });
  return {
    async stamp(data) {
      try {
        const token = await requestTimestamp(http, url.pathname + url.search, data, "sha256", cfg.policyOid);
        // caFile: a token that would not verify later is refused now, while the seal can wait.
        if (opts.trust) await verifyTimestamp(token, data, opts.trust);
        return token;
      } catch (cause) {
        const why = (cause as Error).message;
        if (cfg.required)
          throw new SealgateError("TSA_FAILED", `time-stamp authority ${shown} failed: ${why}`, { cause });
        opts.warn?.(`time-stamp authority ${shown} failed, sealing without a time-stamp: ${why}`);
        return undefined;
      }
    },
    close: () => http.close(),
  };
}

function parseToken(token: Uint8Array) {
  try {
    const info = pkijs.ContentInfo.fromBER(ab(token));
    if (info.contentType !== ID_SIGNED_DATA) throw new Error(`content type ${info.contentType}`);
    const signed = new pkijs.SignedData({ schema: info.content });
    // One encoding only, and the fields the signature does not cover pinned: otherwise a length
    // byte, the outer content type or a version could change and the token still "verify".
    if (!Buffer.from(info.toSchema().toBER(false)).equals(Buffer.from(token)))
      throw new Error("not canonical DER");
    if (signed.encapContentInfo.eContentType !== ID_TST_INFO || !signed.encapContentInfo.eContent) {
      throw new Error("not a TSTInfo token");
    }
    // RFC 5652 5.1: version 3 for a content type other than id-data; 5.3: SignerInfo version 1
    // names the signer by issuer and serial, version 3 by subject key identifier.
    const signer = signed.signerInfos[0];
    if (signed.version !== 3) throw new Error(`SignedData version ${signed.version}, expected 3`);
    if (signed.signerInfos.length !== 1 || !signer) throw new Error("expected exactly one signer");
    const bySerial = signer.sid instanceof pkijs.IssuerAndSerialNumber;
    if (signer.version !== (bySerial ? 1 : 3))
      throw new Error(`SignerInfo version ${signer.version} does not fit its signer identifier`);
    const algorithms = signed.digestAlgorithms.map((a) => a.algorithmId);
    if (!algorithms.includes(signer.digestAlgorithm.algorithmId))
      throw new Error("the signer's digest algorithm is not in digestAlgorithms");
    const tstBytes = signed.encapContentInfo.eContent.getValue();
    const tstInfo = pkijs.TSTInfo.fromBER(tstBytes);
    if (!Buffer.from(tstInfo.toSchema().toBER(false)).equals(Buffer.from(tstBytes)))
      throw new Error("TSTInfo is not canonical DER");
    if (tstInfo.version !== 1) throw new Error(`TSTInfo version ${tstInfo.version}, expected 1`);
    return { signed, tstInfo };
  } catch (cause) {
    throw new SealgateError(
      "TIMESTAMP_INVALID",
      `time-stamp token is malformed: ${(cause as Error).message}`,
      { cause },
    );
  }
}

export interface VerifiedTimestamp {
  genTime: Date;
  tsa: x509.X509Certificate;
  serialNumber: string;
}

/** Verify a token: it covers exactly `data`, the TSA signed it, and the TSA's chain is trusted at genTime. */
export async function verifyTimestamp(
  token: Uint8Array,
  data: Uint8Array,
  trust: Trust,
): Promise<VerifiedTimestamp> {
  const { signed, tstInfo } = parseToken(token);
  const imprint = tstInfo.messageImprint;
  const hash = (Object.keys(HASH_OID) as Hash[]).find(
    (h) => HASH_OID[h] === imprint.hashAlgorithm.algorithmId,
  );
  if (!hash)
    throw new SealgateError(
      "TIMESTAMP_INVALID",
      `time-stamp uses unsupported hash ${imprint.hashAlgorithm.algorithmId}`,
    );
  const expected = createHash(hash).update(data).digest();
  if (!Buffer.from(imprint.hashedMessage.valueBlock.valueHexView).equals(expected)) {
    throw new SealgateError("TIMESTAMP_INVALID", "time-stamp covers different bytes");
  }
  let result: pkijs.SignedDataVerifyResult;
  try {
    // For TSTInfo content pkijs takes the time-stamped bytes and re-checks the imprint too.
    result = await signed.verify({ signer: 0, data: ab(data), checkChain: false, extendedMode: true });
  } catch (cause) {
    throw new SealgateError("TIMESTAMP_INVALID", "time-stamp signature does not verify", { cause });
  }
  if (!result.signatureVerified || !result.signerCertificate) {
    throw new SealgateError("TIMESTAMP_INVALID", "time-stamp signature does not verify");
  }
  const tsa = new x509.X509Certificate(result.signerCertificate.toSchema().toBER(false));
  const others = (signed.certificates ?? [])
    .filter((c): c is pkijs.Certificate => c instanceof pkijs.Certificate)
    .map((c) => new x509.X509Certificate(c.toSchema().toBER(false)));
  const { path } = await validatePath(tsa, others, trust, { at: tstInfo.genTime, purpose: "timestamping" });
  // The certificate set is outside the signature: each certificate in it must be one the path
  // used, so none can be altered (or added) unnoticed.
  const used = path.map((c) => Buffer.from(c.rawData));
  for (const c of others)
    if (!used.some((u) => u.equals(Buffer.from(c.rawData))))
      throw new SealgateError(
        "TIMESTAMP_INVALID",
        `time-stamp token carries certificate "${c.subject}", which is not on the TSA's path to a trust anchor`,
      );
  // The rest of what the TSA's signature does not cover: signer id, digest parameters, the
  // encodings of the signature values.
  try {
    checkUnsignedFields(token, signed, signed.signerInfos[0]!, tsa, others);
  } catch (cause) {
    throw new SealgateError("TIMESTAMP_INVALID", `time-stamp token: ${(cause as Error).message}`, { cause });
  }
  return {
    genTime: tstInfo.genTime,
    tsa,
    serialNumber: Buffer.from(tstInfo.serialNumber.valueBlock.valueHexView).toString("hex"),
  };
}
