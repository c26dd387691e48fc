import { z } from "zod";
import { SealgateError } from "../../core/errors.js";
import type { Trust } from "../pki/trust.js";
import { fingerprint, x509 } from "../pki/x509.js";
import { canonicalBytes } from "../../record/canonical.js";
import { signJws, toCompact, verifyJws } from "./jws.js";
import type { Signer } from "./signer.js";

/*
 * An approver's e-signature: a compact JWS (with x5c) over the RFC 8785 bytes of an approval
 * assertion. The approver's identity is what their certificate says (subject and SAN email),
 * bound by the chain to the organisation's CA; never a name someone typed.
 */

export const APPROVAL_TYP = "vnd.sealgate.approval+jws";

export const ApprovalAssertion = z.strictObject({
  type: z.literal("sealgate.approval/1"),
  model: z.string().min(1),
  version: z.string().regex(/^[1-9]\d*$/),
  /** SHA-256 of the review package the approver saw; a changed package makes this stale. */
  packageDigest: z.string().regex(/^sha256:[0-9a-f]{64}$/),
  /**
   * SHA-256 of the review PDF the approver was shown (the one `sealgate review` stored for this
   * package), so auditors can open the very document signed off. Absent in assertions made
   * before review PDFs were signed, or for a package with no stored review PDF.
   */
  reviewPdf: z
    .string()
    .regex(/^sha256:[0-9a-f]{64}$/)
    .optional(),
  role: z.string().min(1),
  decision: z.enum(["approve", "reject", "request-changes"]),
  comment: z.string().default(""),
  conditions: z.array(z.string()).default([]),
  /** When the approver signed (ISO 8601, UTC); the certificate must be valid then. */
  signedAt: z.iso.datetime(),
});
export type ApprovalAssertion = z.infer<typeof ApprovalAssertion>;

export interface ApproverIdentity {
  subject: string;
  email: string;
  issuer: string;
  /** SHA-256 of the DER certificate, hex. */
  fingerprint: string;
}

export async function signApproval(assertion: ApprovalAssertion, signer: Signer): Promise<string> {
  const parsed = ApprovalAssertion.parse(assertion);
  return toCompact(await signJws(canonicalBytes(parsed, "approval assertion"), signer, APPROVAL_TYP));
}

export function identityEmail(cert: x509.X509Certificate): string | undefined {
  const san = cert.getExtension(x509.SubjectAlternativeNameExtension);
  return san?.names.items.find((n) => n.type === "email")?.value;
}

export interface VerifiedApproval {
  assertion: ApprovalAssertion;
  identity: ApproverIdentity;
  jws: string;
}

/**
 * Verify a signed statement (an approval or an annotation): JWS and chain (approval purpose) at
 * the statement's own signedAt, payload exactly canonical, schema strict, and an email in the
 * certificate to name the person by.
 */
export async function verifyStatement<T extends { signedAt: string }>(
  jws: string,
  trust: Trust,
  kind: { schema: z.ZodType<T>; typ: string; what: string },
): Promise<{ assertion: T; identity: ApproverIdentity; jws: string }> {
  const parts = typeof jws === "string" ? jws.split(".") : [];
  let claimed: unknown;
  try {
    claimed = JSON.parse(Buffer.from(parts[1] ?? "", "base64url").toString("utf8"));
  } catch {
    throw new SealgateError("SIGNATURE_MALFORMED", `${kind.what}: payload is not JSON`);
  }
  const shape = kind.schema.safeParse(claimed);
  if (!shape.success) {
    const issue = shape.error.issues[0];
    throw new SealgateError(
      "SIGNATURE_MALFORMED",
      `${kind.what}: field ${issue?.path.join(".") || "(root)"}: ${issue?.message}`,
    );
  }
  const verified = await verifyJws(jws, trust, {
    purpose: "approval",
    at: new Date(shape.data.signedAt),
    typ: kind.typ,
  });
  const canonical = canonicalBytes(shape.data, kind.what);
  if (!Buffer.from(verified.payload).equals(Buffer.from(canonical))) {
    throw new SealgateError(
      "SIGNATURE_MALFORMED",
      `${kind.what}: payload is not the canonical (RFC 8785) form`,
    );
  }
  const email = identityEmail(verified.signer);
  if (!email) {
    throw new SealgateError(
      "CERT_MALFORMED",
      `${kind.what}: certificate "${verified.signer.subject}" has no email in its SAN`,
    );
  }
  return {
    assertion: shape.data,
    jws,
    identity: {
      subject: verified.signer.subject,
      email,
      issuer: verified.signer.issuer,
      fingerprint: await fingerprint(verified.signer),
    },
  };
}

export function verifyApproval(jws: string, trust: Trust): Promise<VerifiedApproval> {
  return verifyStatement(jws, trust, { schema: ApprovalAssertion, typ: APPROVAL_TYP, what: "approval" });
}
