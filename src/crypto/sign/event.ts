import { SealgateError } from "../../core/errors.js";
import { digestOf, type Digest } from "../../core/digest.js";
import { canonicalBytes } from "../../record/canonical.js";
import { WorkflowEvent } from "../../record/event.js";
import type { Trust } from "../pki/trust.js";
import { fingerprint } from "../pki/x509.js";
import { type ApproverIdentity, identityEmail } from "./approval.js";
import { decodeJws, signJws, toCompact, verifyJws } from "./jws.js";
import type { Signer } from "./signer.js";

/*
 * A workflow event as stored and appended: a compact JWS (typ vnd.sealgate.event+jws, with x5c)
 * over the event's RFC 8785 bytes. People sign their own events with their approver
 * certificate; sealgate signs system events (actor "sealgate") with its sealing key. Which
 * person an actor id is, and whether the certificate is theirs, is the policy's question
 * (approver registry), answered above this layer.
 */

export const EVENT_TYP = "vnd.sealgate.event+jws";
/** The actor of events sealgate itself records (expiry, gate decisions, observed alias moves). */
export const SYSTEM_ACTOR = "sealgate";

export interface SignedEvent {
  jws: string;
  /** `sha256:` of the JWS bytes as stored: what the ledger entry (kind "event") names. */
  digest: Digest;
}

export interface VerifiedEvent {
  event: WorkflowEvent;
  jws: string;
  digest: Digest;
  /** The signer certificate's identity; `email` is "" for a sealing certificate without one. */
  signer: ApproverIdentity;
}

export async function signEvent(event: WorkflowEvent, signer: Signer): Promise<SignedEvent> {
  const parsed = WorkflowEvent.parse(event);
  const jws = toCompact(await signJws(canonicalBytes(parsed, "event"), signer, EVENT_TYP));
  return { jws, digest: digestOf(Buffer.from(jws, "utf8")) };
}

const malformed = (msg: string) => new SealgateError("SIGNATURE_MALFORMED", `event: ${msg}`);

/** The payload, read before the signature is checked only to learn which checks apply. */
function claimedEvent(jws: string): WorkflowEvent {
  const d = decodeJws(jws, { typ: EVENT_TYP });
  let raw: unknown;
  try {
    raw = JSON.parse(Buffer.from(d.flat.payload, "base64url").toString("utf8"));
  } catch {
    throw malformed("payload is not JSON");
  }
  const r = WorkflowEvent.safeParse(raw);
  if (!r.success) {
    const issue = r.error.issues[0];
    throw malformed(`field ${issue?.path.join(".") || "(root)"}: ${issue?.message}`);
  }
  return r.data;
}

/**
 * Verify a stored event: shape and typ, the signature, the payload exactly canonical, then the
 * certificate path at `o.at` (default: the claimed time; callers that hold a trusted time, the
 * ledger's append time or a time-stamp, pass it), for sealing if the actor is sealgate, else for
 * approval. A system event must also be signed by one of the `o.sealing` certificates (SHA-256
 * fingerprints): approver certificates may carry the same EKUs, so the purpose alone cannot tell.
 */
export async function verifyEvent(
  jws: string,
  trust: Trust,
  o: { at?: Date; sealing: readonly string[] },
): Promise<VerifiedEvent> {
  if (typeof jws !== "string") throw malformed("not a compact JWS");
  const event = claimedEvent(jws);
  const system = event.actor === SYSTEM_ACTOR;
  const verified = await verifyJws(jws, trust, {
    typ: EVENT_TYP,
    at: o.at ?? new Date(event.claimedTime),
    purpose: system ? "sealing" : "approval",
  });
  if (!Buffer.from(verified.payload).equals(Buffer.from(canonicalBytes(event, "event"))))
    throw malformed("payload is not the canonical (RFC 8785) form");
  const print = await fingerprint(verified.signer);
  if (system && !o.sealing.includes(print))
    throw new SealgateError(
      "SIGNATURE_INVALID",
      `event: a system event (actor ${SYSTEM_ACTOR}) signed by "${verified.signer.subject}", not by a sealing certificate`,
    );
  const email = identityEmail(verified.signer) ?? "";
  if (!system && !email)
    throw new SealgateError(
      "CERT_MALFORMED",
      `event: certificate "${verified.signer.subject}" has no email in its SAN to name the person by`,
    );
  return {
    event,
    jws,
    digest: digestOf(Buffer.from(jws, "utf8")),
    signer: {
      subject: verified.signer.subject,
      email,
      issuer: verified.signer.issuer,
      fingerprint: print,
    },
  };
}
