import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { loadSigner } from "../../../src/crypto/sign/load.js";
import { EVENT_TYP, signEvent, verifyEvent } from "../../../src/crypto/sign/event.js";
import { signJws, toCompact } from "../../../src/crypto/sign/jws.js";
import { digestOf } from "../../../src/core/digest.js";
import { actorMismatch } from "../../../src/policy/person.js";
import { parsePolicy } from "../../../src/policy/schema.js";
import type { WorkflowEvent } from "../../../src/record/event.js";
import { devPki } from "../../support/pki.js";

/*
 * Signed events: a compact JWS (typ vnd.sealgate.event+jws) over the RFC 8785 bytes, by the
 * person acting or, for system events, by the sealing key. Any change to the signed bytes fails.
 */

const d = (c: string) => `sha256:${c.repeat(64)}`;
const approval: WorkflowEvent = {
  type: "sealgate.event/1",
  kind: "approval",
  model: "credit-risk",
  version: "3",
  cycle: 1,
  actor: "li.lei@example.org",
  claimedTime: new Date(Date.now() - 60_000).toISOString(),
  package: d("a"),
  role: "model-risk",
  assertion: d("b"),
};
const gate: WorkflowEvent = {
  type: "sealgate.event/1",
  kind: "gate-decision",
  model: "credit-risk",
  version: "3",
  cycle: 1,
  actor: "sealgate",
  claimedTime: new Date(Date.now() - 60_000).toISOString(),
  target: "production",
  allowed: false,
  reasons: ["model card does not list production"],
  record: d("c"),
};

async function signers() {
  const { pki, trust } = await devPki();
  const li = pki.approvers.find((a) => a.email === "li.lei@example.org")!;
  return {
    pki,
    trust,
    li: await loadSigner({ type: "pem", key: li.key, cert: li.cert }, "k", {}),
    sealing: await loadSigner({ type: "pem", key: pki.sealing.key, cert: pki.sealing.cert }, "k", {}),
  };
}

/** For person events the sealing list does not matter. */
const NONE = { sealing: [] };

const codeOf = (p: Promise<unknown>) =>
  p.then(
    () => "ok",
    (e: { code?: string }) => e.code ?? String(e),
  );

describe("signed workflow events", () => {
  it("verifies a person's event and a system event, and names the JWS bytes by digest", async () => {
    const { trust, li, sealing, pki } = await signers();
    const seal = [pki.sealing.fingerprint];
    const signed = await signEvent(approval, li);
    expect(signed.digest).toBe(digestOf(Buffer.from(signed.jws)));
    expect(JSON.parse(Buffer.from(signed.jws.split(".")[0]!, "base64url").toString()).typ).toBe(EVENT_TYP);
    const v = await verifyEvent(signed.jws, trust, { sealing: seal });
    expect(v.event).toEqual(approval);
    expect(v.signer.email).toBe("li.lei@example.org");
    expect(v.digest).toBe(signed.digest);
    const sys = await verifyEvent((await signEvent(gate, sealing)).jws, trust, { sealing: seal });
    expect(sys.event).toEqual(gate);
  });

  it("fails any change to the signed payload", async () => {
    const { trust, li } = await signers();
    const { jws } = await signEvent(approval, li);
    const [h, p, s] = jws.split(".");
    const payload = Buffer.from(p!, "base64url");
    await fc.assert(
      fc.asyncProperty(
        fc.nat({ max: payload.length - 1 }),
        fc.integer({ min: 1, max: 255 }),
        async (at, x) => {
          const altered = Buffer.from(payload);
          altered[at] = altered[at]! ^ x;
          const code = await codeOf(verifyEvent(`${h}.${altered.toString("base64url")}.${s}`, trust, NONE));
          expect(code).toMatch(/^SIGNATURE_(INVALID|MALFORMED)$/);
        },
      ),
      { numRuns: 40 },
    );
  });

  it("refuses a non-canonical payload, another typ, a system event by a person's key, and garbage", async () => {
    const { trust, li, pki } = await signers();
    const seal = [pki.sealing.fingerprint];
    const spaced = Buffer.from(JSON.stringify(approval, null, 1));
    const nonCanonical = toCompact(await signJws(spaced, li, EVENT_TYP));
    expect(await codeOf(verifyEvent(nonCanonical, trust, NONE))).toBe("SIGNATURE_MALFORMED");
    const otherTyp = toCompact(
      await signJws(Buffer.from(JSON.stringify(approval)), li, "vnd.sealgate.approval+jws"),
    );
    expect(await codeOf(verifyEvent(otherTyp, trust, NONE))).toBe("SIGNATURE_MALFORMED");
    // Only the sealing certificate may sign what sealgate itself records: a person's certificate
    // lacks the sealing EKU, and a sealing certificate not configured as ours is refused by fingerprint.
    expect(await codeOf(verifyEvent((await signEvent(gate, li)).jws, trust, { sealing: seal }))).toBe(
      "CERT_BAD_EXTENDED_KEY_USAGE",
    );
    const { sealing } = await signers();
    expect(await codeOf(verifyEvent((await signEvent(gate, sealing)).jws, trust, NONE))).toBe(
      "SIGNATURE_INVALID",
    );
    for (const junk of ["", "a.b.c", "..", 42 as unknown as string])
      expect(await codeOf(verifyEvent(junk, trust, NONE))).toBe("SIGNATURE_MALFORMED");
  });

  it("attributes a person's event to its actor only when the registry maps the certificate to that person", async () => {
    const { trust, li } = await signers();
    const policy = parsePolicy(
      Buffer.from(`
version: "t"
effectiveFrom: "2026-01-01T00:00:00Z"
tiers: { low: { chain: [model-risk] } }
defaultTier: low
approvers:
  - { name: Li, roles: [model-risk], email: li.lei@example.org, effectiveFrom: "2026-01-01T00:00:00Z" }
`),
      "t",
    ).policy;
    const mine = await verifyEvent((await signEvent(approval, li)).jws, trust, NONE);
    expect(actorMismatch(policy, mine.signer, mine.event.actor)).toBeNull();
    const other = await verifyEvent(
      (await signEvent({ ...approval, actor: "zoe.angstrom@example.org" }, li)).jws,
      trust,
      NONE,
    );
    expect(actorMismatch(policy, other.signer, other.event.actor)).toBe(
      "signed by li.lei@example.org, but names zoe.angstrom@example.org as its actor",
    );
  });
});
