import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { canonicalBytes } from "../../src/record/canonical.js";
import { EVENT_KINDS, type EventKind, eventReferences, WorkflowEvent } from "../../src/record/event.js";

/*
 * The event object (sealgate.event/1): one strict schema per kind, canonical round trips, and
 * the digests each kind names, which the store verifier follows.
 */

const hex = fc
  .uint8Array({ minLength: 32, maxLength: 32 })
  .map((b) => `sha256:${Buffer.from(b).toString("hex")}`);
const version = fc.integer({ min: 1, max: 10_000 }).map(String);
const text = fc.string({ unit: "grapheme", maxLength: 40 });
const time = fc
  .date({ min: new Date("2020-01-01T00:00:00Z"), max: new Date("2100-01-01T00:00:00Z"), noInvalidDate: true })
  .map((d) => d.toISOString());

const common = fc.record({
  type: fc.constant("sealgate.event/1" as const),
  model: fc.string({ minLength: 1, maxLength: 30 }),
  version,
  cycle: fc.integer({ min: 1, max: 50 }),
  actor: fc.oneof(fc.constant("sealgate"), fc.emailAddress()),
  claimedTime: time,
});

/** Members of each kind beyond the common ones. */
const extra: Record<EventKind, fc.Arbitrary<Record<string, unknown>>> = {
  "review-opened": fc.record({ package: hex, reviewPdf: hex }),
  comment: fc.record({ package: hex, annotation: hex }),
  "clarification-request": fc.record({ package: hex, annotation: hex }),
  response: fc.record({
    package: hex,
    inReplyTo: hex,
    text: text.filter((t) => t.length > 0),
    attachments: fc.array(hex, { maxLength: 3 }),
  }),
  approval: fc.record({ package: hex, role: fc.constantFrom("model-risk", "on-call"), assertion: hex }),
  rejection: fc.record({ package: hex, role: fc.constant("model-risk"), assertion: hex }),
  "request-changes": fc.record({ package: hex, role: fc.constant("model-risk"), assertion: hex }),
  withdrawal: fc.record({ package: hex, reason: text }),
  expiry: fc.record({ record: hex, reason: text.filter((t) => t.length > 0) }),
  "gate-decision": fc.record({
    target: fc.constantFrom("production", "staging"),
    allowed: fc.boolean(),
    reasons: fc.array(text, { maxLength: 3 }),
    record: fc.option(hex, { nil: null }),
  }),
  promote: fc.record({
    alias: fc.constant("champion"),
    from: fc.option(version, { nil: null }),
    record: hex,
    gateDecision: hex,
  }),
  "alias-move": fc.record({
    alias: fc.constant("champion"),
    from: fc.option(version, { nil: null }),
    record: fc.option(hex, { nil: null }),
  }),
  rollback: fc.record({
    alias: fc.constant("champion"),
    from: version,
    record: fc.option(hex, { nil: null }),
    reason: text,
  }),
};

const anyEvent = fc
  .constantFrom(...EVENT_KINDS)
  .chain((kind) => fc.tuple(common, extra[kind]).map(([c, e]) => ({ ...c, kind, ...e })));

const approval = {
  type: "sealgate.event/1",
  kind: "approval",
  model: "credit-risk",
  version: "3",
  cycle: 1,
  actor: "li.lei@example.org",
  claimedTime: "2026-11-21T10:00:00.000Z",
  package: `sha256:${"a".repeat(64)}`,
  role: "model-risk",
  assertion: `sha256:${"b".repeat(64)}`,
};

describe("sealgate.event/1 objects", () => {
  it("has one schema per kind the issue lists", () => {
    expect(EVENT_KINDS).toEqual(Object.keys(extra));
  });

  it("round-trips every kind through its canonical bytes unchanged", () => {
    fc.assert(
      fc.property(anyEvent, (e) => {
        const parsed = WorkflowEvent.parse(e);
        const bytes = canonicalBytes(parsed);
        const again = WorkflowEvent.parse(JSON.parse(Buffer.from(bytes).toString("utf8")));
        expect(again).toEqual(parsed);
        expect(canonicalBytes(again)).toEqual(bytes);
      }),
    );
  });

  it("refuses unknown kinds, unknown members and missing ones", () => {
    fc.assert(
      fc.property(
        anyEvent,
        fc.string({ minLength: 1, maxLength: 12 }).filter((k) => !(EVENT_KINDS as string[]).includes(k)),
        fc.string({ minLength: 1, maxLength: 12 }),
        (e, kind, member) => {
          expect(WorkflowEvent.safeParse({ ...e, kind }).success).toBe(false);
          if (!(member in e)) expect(WorkflowEvent.safeParse({ ...e, [member]: 1 }).success).toBe(false);
        },
      ),
    );
    const { assertion: _a, ...noAssertion } = approval;
    expect(WorkflowEvent.safeParse(noAssertion).success).toBe(false);
    expect(WorkflowEvent.safeParse({ ...approval, type: "sealgate.event/2" }).success).toBe(false);
    expect(WorkflowEvent.safeParse({ ...approval, package: "sha256:ABC" }).success).toBe(false);
    expect(WorkflowEvent.safeParse({ ...approval, claimedTime: "2026-11-21T10:00:00+01:00" }).success).toBe(
      false,
    );
    // An approval event names the signed assertion; it does not copy its decision.
    expect(WorkflowEvent.safeParse({ ...approval, decision: "approve" }).success).toBe(false);
  });

  it("lists every object an event names, and only those", () => {
    expect(eventReferences(WorkflowEvent.parse(approval))).toEqual([
      { member: "package", digest: approval.package },
      { member: "assertion", digest: approval.assertion },
    ]);
    const d = (c: string) => `sha256:${c.repeat(64)}`;
    const { role: _role, assertion: _assertion, ...reviewed } = approval;
    const response = WorkflowEvent.parse({
      ...reviewed,
      kind: "response",
      inReplyTo: d("c"),
      text: `see ${d("f")}`, // a digest inside free text is not a reference
      attachments: [d("d"), d("e")],
    });
    expect(eventReferences(response).map((r) => `${r.member}=${r.digest.slice(7, 8)}`)).toEqual([
      "package=a",
      "inReplyTo=c",
      "attachments[0]=d",
      "attachments[1]=e",
    ]);
    fc.assert(
      fc.property(anyEvent, (e) => {
        const parsed = WorkflowEvent.parse(e);
        const refs = eventReferences(parsed).map((r) => r.digest);
        // Every digest-shaped value outside free text is listed.
        const { reasons: _r, text: _t, reason: _x, ...rest } = parsed as Record<string, unknown>;
        const shaped = JSON.stringify(rest).match(/sha256:[0-9a-f]{64}/g) ?? [];
        expect(refs.sort()).toEqual(shaped.sort());
      }),
    );
  });
});
