import { z } from "zod";
import { canonicalBytes } from "../../record/canonical.js";
import { type ApproverIdentity, verifyStatement } from "./approval.js";
import { signJws, toCompact } from "./jws.js";
import type { Signer } from "./signer.js";

/*
 * A reviewer's comment on a named section of the review package, or a request for
 * clarification, signed exactly like an approval (compact JWS with x5c over RFC 8785 bytes) so
 * the comment is attributable to a certificate and sealed into the record with the decision.
 */

export const ANNOTATION_TYP = "vnd.sealgate.annotation+jws";

/** The review package's sections, as the PDF numbers them. */
export const SECTIONS = [
  "model",
  "challenger",
  "request",
  "explanation",
  "dataset",
  "materiality",
  "model-card",
  "conditions",
  "general",
] as const;

export const AnnotationAssertion = z.strictObject({
  type: z.literal("sealgate.annotation/1"),
  model: z.string().min(1),
  version: z.string().regex(/^[1-9]\d*$/),
  packageDigest: z.string().regex(/^sha256:[0-9a-f]{64}$/),
  section: z.enum(SECTIONS),
  kind: z.enum(["comment", "clarification-request"]),
  text: z.string().min(1),
  signedAt: z.iso.datetime(),
});
export type AnnotationAssertion = z.infer<typeof AnnotationAssertion>;

export interface VerifiedAnnotation {
  assertion: AnnotationAssertion;
  identity: ApproverIdentity;
  jws: string;
}

export async function signAnnotation(a: AnnotationAssertion, signer: Signer): Promise<string> {
  const parsed = AnnotationAssertion.parse(a);
  return toCompact(await signJws(canonicalBytes(parsed, "annotation"), signer, ANNOTATION_TYP));
}

export function verifyAnnotation(jws: string, trust: Parameters<typeof verifyStatement>[1]) {
  return verifyStatement(jws, trust, {
    schema: AnnotationAssertion,
    typ: ANNOTATION_TYP,
    what: "annotation",
  });
}
