import { describe, expect, it } from "vitest";
import { digestOf, type Digest } from "../../src/core/digest.js";
import { signEvent } from "../../src/crypto/sign/event.js";
import { FileLedger } from "../../src/evidence/ledger/file-ledger.js";
import { appendEvent } from "../../src/governance/events/append.js";
import { eventsOf } from "../../src/governance/events/read.js";
import type { WorkflowEvent } from "../../src/record/event.js";
import { eventFixture } from "../support/events.js";

/*
 * appendEvent: a signed event is verified, stored and appended as one entry of kind "event";
 * a claimed time too far from sealgate's clock, a wrong assertion or a missing object is refused
 * with nothing appended. eventsOf reads a version's events back in ledger order.
 */

/** Every entry of a ledger, flattened (Node 20 has no Array.fromAsync). */
async function entriesOf(ledger: FileLedger) {
  const out = [];
  for await (const batch of ledger.read()) out.push(...batch);
  return out;
}

const codeOf = (p: Promise<unknown>) =>
  p.then(
    () => "ok",
    (e: { code?: string; message?: string }) => `${e.code}: ${e.message}`,
  );

describe("appending workflow events", () => {
  it("appends a verified approval event as an entry of kind event, stored by the digest of its JWS", async () => {
    const f = await eventFixture();
    const signed = await f.decision(new Date());
    const r = await appendEvent(f.deps, signed.jws);
    expect(r).toMatchObject({ seq: 0, digest: signed.digest });
    expect(f.ledger.size).toBe(1);
    const [entry] = await entriesOf(f.ledger);
    expect(entry).toMatchObject({ kind: "event", object: signed.digest, time: r.time });
    expect(digestOf(await f.store.get(signed.digest))).toBe(signed.digest);
    // A retried hand-off of the same event appends nothing more.
    expect((await appendEvent(f.deps, signed.jws)).already).toBe(true);
    expect(f.ledger.size).toBe(1);
    await f.ledger.close();
  });

  it("refuses a claimed time 10 minutes ahead, or an approval signedAt 10 minutes behind, naming both times and the limit", async () => {
    const f = await eventFixture();
    const now = new Date();
    const ahead = await f.decision(new Date(now.getTime() + 600_000));
    const refused = await codeOf(appendEvent({ ...f.deps, now: () => now }, ahead.jws));
    expect(refused).toContain("EVENT_CLOCK_SKEW");
    expect(refused).toContain(new Date(now.getTime() + 600_000).toISOString());
    expect(refused).toContain(now.toISOString());
    expect(refused).toContain("allows 300 s");
    const backdated = await f.decision(now, { signedAt: new Date(now.getTime() - 600_000) });
    expect(await codeOf(appendEvent({ ...f.deps, now: () => now }, backdated.jws))).toMatch(
      /^EVENT_CLOCK_SKEW: the approval's signedAt .* behind/,
    );
    expect(f.ledger.size).toBe(0);
    expect(await entriesOf(f.ledger)).toEqual([]);
    // Within the limit it is appended.
    const near = await f.decision(new Date(now.getTime() + 200_000));
    expect((await appendEvent({ ...f.deps, now: () => now }, near.jws)).seq).toBe(0);
    await f.ledger.close();
  });

  it("refuses an event naming an object the store lacks, a forged signature, or an assertion that says otherwise", async () => {
    const f = await eventFixture();
    const missing: WorkflowEvent = {
      type: "sealgate.event/1",
      kind: "comment",
      model: "credit-risk",
      version: "3",
      cycle: 1,
      actor: "li.lei@example.org",
      claimedTime: new Date().toISOString(),
      package: f.pkg,
      annotation: `sha256:${"e".repeat(64)}` as Digest,
    };
    expect(await codeOf(appendEvent(f.deps, (await signEvent(missing, f.signer)).jws))).toMatch(
      /^EVENT_INVALID: event: annotation names sha256:e+, which is not in the evidence store/,
    );
    const good = await f.decision(new Date());
    const [h, p, s] = good.jws.split(".");
    const flipped = `${h}.${p}.${s!.startsWith("A") ? "B" : "A"}${s!.slice(1)}`;
    expect(await codeOf(appendEvent(f.deps, flipped))).toMatch(/^SIGNATURE_(INVALID|MALFORMED)/);
    // An approval event wrapping a rejection assertion.
    const wrapped = await f.decision(new Date(), { decision: "reject" });
    const payload = JSON.parse(
      Buffer.from(wrapped.jws.split(".")[1]!, "base64url").toString(),
    ) as WorkflowEvent;
    const relabelled = await signEvent({ ...payload, kind: "approval" } as WorkflowEvent, f.signer);
    expect(await codeOf(appendEvent(f.deps, relabelled.jws))).toContain(
      "the assertion decides reject, the event is a approval",
    );
    expect(f.ledger.size).toBe(0);
    await f.ledger.close();
  });

  it("reads a version's events back in ledger order with their seq and append time", async () => {
    const f = await eventFixture();
    const first = await f.decision(new Date(), { role: "data-governance" });
    const second = await f.decision(new Date(Date.now() - 120_000), { role: "model-risk" });
    await appendEvent(f.deps, first.jws);
    await appendEvent(f.deps, second.jws);
    const read = await eventsOf(f.ledger, f.store, { model: "credit-risk", version: "3" });
    expect(read.events.map((e) => [e.seq, e.digest])).toEqual([
      [0, first.digest],
      [1, second.digest],
    ]);
    expect(read.events[1]!.time >= read.events[0]!.time).toBe(true);
    expect((await eventsOf(f.ledger, f.store, { model: "credit-risk", version: "4" })).events).toEqual([]);
    expect(
      (await eventsOf(f.ledger, f.store, { model: "credit-risk", version: "3", cycle: 2 })).events,
    ).toEqual([]);
    await f.ledger.close();
  });
});
