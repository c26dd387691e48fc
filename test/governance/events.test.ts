import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { digestOf, type Digest } from "../../src/core/digest.js";
import { signApproval } from "../../src/crypto/sign/approval.js";
import { signEvent } from "../../src/crypto/sign/event.js";
import { loadSigner } from "../../src/crypto/sign/load.js";
import { FileLedger } from "../../src/evidence/ledger/file-ledger.js";
import { FsObjectStore } from "../../src/evidence/store/fs-store.js";
import { type AppendEventDeps, appendEvent } from "../../src/governance/events/append.js";
import { eventsOf } from "../../src/governance/events/read.js";
import type { WorkflowEvent } from "../../src/record/event.js";
import { devPki } from "../support/pki.js";

/*
 * appendEvent: a signed event is verified, stored and appended as one entry of kind "event";
 * a claimed time too far from sealgate's clock, a wrong assertion or a missing object is refused
 * with nothing appended. eventsOf reads a version's events back in ledger order.
 */

const PKG = Buffer.from('{"a review package":true}');

export async function eventFixture() {
  const { pki, trust } = await devPki();
  const dir = await mkdtemp(join(tmpdir(), "sealgate-events-"));
  const store = await new FsObjectStore(dir).init();
  const ledger = await FileLedger.open(join(dir, "ledger"));
  const li = pki.approvers.find((a) => a.email === "li.lei@example.org")!;
  const signer = await loadSigner({ type: "pem", key: li.key, cert: li.cert }, "k", {});
  const pkg = await store.put(PKG);
  const deps: AppendEventDeps = {
    store,
    ledger,
    trust,
    sealing: [pki.sealing.fingerprint],
    maxClockSkew: 300,
  };
  /** An approval assertion (stored) and its event, both signed by Li Lei at `at`. */
  const decision = async (
    at: Date,
    o: { signedAt?: Date; decision?: "approve" | "reject" | "request-changes"; role?: string } = {},
  ) => {
    const assertionJws = await signApproval(
      {
        type: "sealgate.approval/1",
        model: "credit-risk",
        version: "3",
        packageDigest: pkg,
        role: o.role ?? "model-risk",
        decision: o.decision ?? "approve",
        comment: "",
        conditions: [],
        signedAt: (o.signedAt ?? at).toISOString(),
      },
      signer,
    );
    const assertion = await store.put(Buffer.from(assertionJws));
    const kind = { approve: "approval", reject: "rejection", "request-changes": "request-changes" } as const;
    const event: WorkflowEvent = {
      type: "sealgate.event/1",
      kind: kind[o.decision ?? "approve"],
      model: "credit-risk",
      version: "3",
      cycle: 1,
      actor: "li.lei@example.org",
      claimedTime: at.toISOString(),
      package: pkg,
      role: o.role ?? "model-risk",
      assertion,
    };
    return signEvent(event, signer);
  };
  return { dir, store, ledger, deps, signer, pkg, decision, pki, trust };
}

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
