import { SealgateError } from "../core/errors.js";
import { ApprovalAssertion } from "../crypto/sign/approval.js";
import { fromB64u } from "../crypto/sign/base64.js";
import { decodeCmsDetached } from "../crypto/sign/cms.js";
import { OID, x509 } from "../crypto/pki/x509.js";
import { canonicalBytes } from "../record/canonical.js";
import type { PromotionRecord } from "../record/schema.js";
import { WorkflowEvent } from "../record/event.js";
import { SYSTEM_ACTOR } from "../crypto/sign/event.js";
import { isDecision } from "../governance/events/append.js";
import { tokenContents } from "./tsa-token.js";

/*
 * The facts VERIFY.md's approval and time-stamp steps need, read from the bundle's own bytes
 * at export: what each approver signed, where the CMS seal keeps its signature value and its
 * time-stamp token, and when each token says it was made.
 */

const invalid = (what: string) => new SealgateError("BUNDLE_INVALID", `bundle: ${what}`);

export interface ApprovalFacts {
  /** 1-based position in the record's approvals. */
  n: number;
  assertion: string;
  role: string;
  decision: string;
  email: string;
  /** SHA-256 of the signer certificate's DER, hex, as the sealed record names it. */
  fingerprint: string;
  signedAt: string;
  alg: string;
  /** `openssl verify -purpose` for the approver's certificate: by the approval EKU it carries. */
  purpose: "smimesign" | "sslclient";
  /** The payload the approver must have signed: the record's fields, the approver's own words. */
  payload: string;
}

/** OpenSSL's S/MIME purpose wants emailProtection; an approver with only clientAuth is a TLS client. */
function approvalPurpose(certB64: string): ApprovalFacts["purpose"] {
  let cert: x509.X509Certificate;
  try {
    cert = new x509.X509Certificate(new Uint8Array(Buffer.from(certB64, "base64")));
  } catch {
    throw invalid("an approval's x5c certificate is unreadable");
  }
  const eku = cert.getExtension(x509.ExtendedKeyUsageExtension);
  return (eku?.usages ?? []).map(String).includes(OID.emailProtection) ? "smimesign" : "sslclient";
}

/** One approval of a record, its assertion object (compact JWS) read for its algorithm and words. */
export function approvalFacts(
  r: PromotionRecord,
  i: number,
  jws: Uint8Array,
  /** The review PDF the bundle carries: an approval that names one must name this one. */
  reviewPdf: string | undefined,
): ApprovalFacts {
  const a = r.approvals[i]!;
  const [h, p] = Buffer.from(jws).toString("latin1").split(".");
  let header: { alg?: unknown; x5c?: unknown };
  let signed: ApprovalAssertion;
  try {
    header = JSON.parse(fromB64u(h ?? "", "header").toString("utf8"));
    signed = ApprovalAssertion.parse(JSON.parse(fromB64u(p ?? "", "payload").toString("utf8")));
  } catch {
    throw invalid(`approval ${a.assertion} is not a readable approval JWS`);
  }
  const { alg, x5c } = header;
  if (typeof alg !== "string" || !Array.isArray(x5c) || typeof x5c[0] !== "string")
    throw invalid(`approval ${a.assertion} names no algorithm or certificate`);
  const payload = Buffer.from(
    canonicalBytes(
      {
        type: "sealgate.approval/1",
        model: r.model.name,
        version: r.model.version,
        packageDigest: r.package,
        ...(signed.reviewPdf !== undefined
          ? { reviewPdf: reviewPdf ?? "(no review PDF in this bundle)" }
          : {}),
        role: a.role,
        decision: a.decision,
        comment: signed.comment,
        conditions: signed.conditions,
        signedAt: a.signedAt,
      },
      "approval assertion",
    ),
  ).toString("utf8");
  return {
    n: i + 1,
    assertion: a.assertion,
    role: a.role,
    decision: a.decision,
    email: a.identity.email,
    fingerprint: a.identity.fingerprint,
    signedAt: a.signedAt,
    alg,
    purpose: approvalPurpose(x5c[0]),
    payload,
  };
}

/** One ledger event of a ledger-judged cycle, for VERIFY.md's ledger-order step. */
export interface EventFacts {
  /** The entry's seq: the event's place in the ledger. */
  seq: number;
  object: string;
  /** The entry's append time (sealgate's clock): what the chain judges the event at. */
  time: string;
  kind: string;
  actor: string;
  /** Decision events: the role decided for, and the approval assertion the event names. */
  role?: string;
  assertion?: string;
  alg: string;
  /** `openssl verify -purpose` for a person's certificate; undefined for sealgate's own events. */
  purpose?: ApprovalFacts["purpose"];
  /** The event's payload, canonical: what its signer signed. */
  payload: string;
}

/** An event object (compact JWS) read for its algorithm and words; `time` is its entry's. */
export function eventFacts(e: { seq: number; object: string; time: string }, jws: Uint8Array): EventFacts {
  const [h, p] = Buffer.from(jws).toString("latin1").split(".");
  let header: { alg?: unknown; x5c?: unknown };
  let event: WorkflowEvent;
  try {
    header = JSON.parse(fromB64u(h ?? "", "header").toString("utf8"));
    event = WorkflowEvent.parse(JSON.parse(fromB64u(p ?? "", "payload").toString("utf8")));
  } catch {
    throw invalid(`event ${e.object} is not a readable event JWS`);
  }
  const { alg, x5c } = header;
  if (typeof alg !== "string" || !Array.isArray(x5c) || typeof x5c[0] !== "string")
    throw invalid(`event ${e.object} names no algorithm or certificate`);
  return {
    ...e,
    kind: event.kind,
    actor: event.actor,
    ...(isDecision(event) ? { role: event.role, assertion: event.assertion } : {}),
    alg,
    ...(event.actor === SYSTEM_ACTOR ? {} : { purpose: approvalPurpose(x5c[0]) }),
    payload: Buffer.from(canonicalBytes(event, "event")).toString("utf8"),
  };
}

/** Where a time-stamped CMS keeps the two byte ranges `openssl ts -verify` needs. */
export interface CmsTokenFacts {
  /** The SignerInfo's signature value (the OCTET STRING's contents): what the token covers. */
  signature: { offset: number; length: number };
  /** The signature time-stamp token (the attribute's one value, a ContentInfo). */
  token: { offset: number; length: number };
  genTime: string;
}

/** Each range found exactly once in the file, or the CMS is not as export wrote it. */
function rangeOf(file: Buffer, part: Uint8Array, what: string) {
  const offset = file.indexOf(part);
  if (offset < 0 || file.indexOf(part, offset + 1) >= 0) throw invalid(`the CMS seal's ${what} is ambiguous`);
  return { offset, length: part.length };
}

export function cmsTokenFacts(p7s: Uint8Array): CmsTokenFacts | undefined {
  const d = decodeCmsDetached(p7s);
  if (!d.timestamp) return undefined;
  return {
    signature: rangeOf(d.p7s, d.signatureValue, "signature value"),
    token: rangeOf(d.p7s, d.timestamp, "time-stamp token"),
    genTime: tokenContents(d.timestamp).genTime.toISOString(),
  };
}
