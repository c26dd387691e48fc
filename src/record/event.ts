import { z } from "zod";
import { Digest } from "./schema.js";

/*
 * A workflow event: one thing that happened in a review cycle or to a deployed version (a
 * review opened, a comment, an approval, a gate decision, an alias moved...), as a typed,
 * canonical JSON object that is signed (crypto/sign/event.ts) and appended to the ledger when it
 * happens. The ledger entry carries sealgate's own time; `claimedTime` is only the signer's
 * clock. An event names other objects by digest and never copies them: an approval event names
 * the approver-signed assertion, not its fields.
 */

export const EVENT_TYPE = "sealgate.event/1";

/** Schemas of members that name a stored object; eventReferences() finds them by this set. */
const REFS = new WeakSet<z.ZodType>();
const ref = (description: string) => {
  const s = Digest.describe(description);
  REFS.add(s);
  return s;
};

const Version = z.string().regex(/^[1-9]\d*$/);
const Iso = z.iso.datetime({ offset: false });
/** A person id from the approver registry (its `id`, else the email), or "sealgate" for system events. */
const Actor = z.string().min(1).max(320);

const common = {
  type: z.literal(EVENT_TYPE),
  model: z.string().min(1),
  version: Version,
  /** The review cycle (1 for a first review); for deployment events, the cycle of the sealed record. */
  cycle: z.int().min(1),
  actor: Actor,
  claimedTime: Iso.describe("the signer's clock; the ledger entry's time is the trusted one"),
};
const reviewed = { ...common, package: ref("the review package (canonical bytes, stored)") };
const decided = {
  ...reviewed,
  role: z.string().min(1),
  assertion: ref("the approver-signed approval assertion (compact JWS, stored)"),
};
const annotated = { ...reviewed, annotation: ref("the reviewer-signed annotation (compact JWS, stored)") };

export const WorkflowEvent = z.discriminatedUnion("kind", [
  z.strictObject({ ...reviewed, kind: z.literal("review-opened"), reviewPdf: ref("the review PDF shown") }),
  z.strictObject({ ...annotated, kind: z.literal("comment") }),
  z.strictObject({ ...annotated, kind: z.literal("clarification-request") }),
  z.strictObject({
    ...reviewed,
    kind: z.literal("response"),
    inReplyTo: ref("the annotation or event answered"),
    text: z.string().min(1),
    attachments: z.array(ref("an evidence file attached to the response")).default([]),
  }),
  z.strictObject({ ...decided, kind: z.literal("approval") }),
  z.strictObject({ ...decided, kind: z.literal("rejection") }),
  z.strictObject({ ...decided, kind: z.literal("request-changes") }),
  z.strictObject({ ...reviewed, kind: z.literal("withdrawal"), reason: z.string() }),
  z.strictObject({
    ...common,
    kind: z.literal("expiry"),
    record: ref("the sealed record whose approval expired"),
    reason: z.string().min(1),
  }),
  z.strictObject({
    ...common,
    kind: z.literal("gate-decision"),
    target: z.string().min(1).describe("the promotion target (deployment target or alias)"),
    allowed: z.boolean(),
    reasons: z.array(z.string()),
    record: ref("the sealed record the gate judged by").nullable(),
  }),
  z.strictObject({
    ...common,
    kind: z.literal("promote"),
    alias: z.string().min(1),
    from: Version.nullable().describe("the version that held the alias before; null if none"),
    record: ref("the sealed record that approved this version"),
    gateDecision: ref("the gate-decision event that allowed it"),
  }),
  z.strictObject({
    ...common,
    kind: z.literal("alias-move"),
    alias: z.string().min(1),
    from: Version.nullable(),
    record: ref("the sealed record of the version now holding the alias").nullable(),
  }),
  z.strictObject({
    ...common,
    kind: z.literal("rollback"),
    alias: z.string().min(1),
    from: Version.describe("the version rolled back from"),
    record: ref("the sealed record of the version restored").nullable(),
    reason: z.string(),
  }),
]);
export type WorkflowEvent = z.infer<typeof WorkflowEvent>;
export type EventKind = WorkflowEvent["kind"];
export const EVENT_KINDS = WorkflowEvent.options.map((o) => o.shape.kind.value) as EventKind[];

/** Which members of each kind name an object, worked out once from the schemas above. */
interface RefMember {
  member: string;
  many: boolean;
}
const REF_MEMBERS: ReadonlyMap<string, RefMember[]> = new Map(
  WorkflowEvent.options.map((o) => [
    o.shape.kind.value,
    Object.entries(o.shape as Record<string, z.ZodType>).flatMap(([member, s]): RefMember[] => {
      const inner = s instanceof z.ZodNullable || s instanceof z.ZodDefault ? (s.unwrap() as z.ZodType) : s;
      if (REFS.has(inner)) return [{ member, many: false }];
      if (inner instanceof z.ZodArray && REFS.has(inner.element as z.ZodType))
        return [{ member, many: true }];
      return [];
    }),
  ]),
);

export interface EventReference {
  /** The member that names it, e.g. `assertion` or `attachments[0]`. */
  member: string;
  digest: string;
}

/** Every object digest the event names, in member order: the edges of the store's reference graph. */
export function eventReferences(event: WorkflowEvent): EventReference[] {
  const values = event as unknown as Record<string, unknown>;
  return (REF_MEMBERS.get(event.kind) ?? []).flatMap(({ member, many }) => {
    const v = values[member];
    if (many) return (v as string[]).map((digest, i) => ({ member: `${member}[${i}]`, digest }));
    return typeof v === "string" ? [{ member, digest: v }] : [];
  });
}
