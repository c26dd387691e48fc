import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type BundleIndex,
  eventFile,
  INDEX,
  MANIFEST,
  manifestText,
  objectPath,
} from "../../src/bundle/layout.js";
import { verifyBundle } from "../../src/bundle/verify.js";
import { readZip } from "../../src/bundle/zip-read.js";
import { writeZip } from "../../src/bundle/zip-write.js";
import { canonicalBytes } from "../../src/record/canonical.js";
import type { PromotionRecord } from "../../src/record/schema.js";
import { exportOf, sealedStore, type SealedStore } from "./fixture.js";
import { runVerifyMd } from "./run-verify-md.js";

/*
 * A ledger-judged cycle in a bundle: its events travel with their entries and proofs, and
 * verify re-runs the chain in ledger order at append time, as the sealer did, so a bundle whose
 * approvers' clocks disagree with ledger order verifies as the seal does. Every change to an
 * event, its entry or the list fails a named finding, with the manifest recomputed (as an
 * attacker who knows the format would).
 */

type Files = Map<string, Buffer>;
let s: SealedStore;
let judged: Files;
let tagged: Files;

beforeAll(async () => {
  s = await sealedStore("ec-p256", { ledgerJudged: true });
  judged = await readZip(await exportOf(s, s.events.ledgerJudged!));
  tagged = await readZip(await exportOf(s, s.events.approved));
});
afterAll(async () => {
  await s?.ledger.close();
});

const indexOf = (files: Files) => JSON.parse(files.get(INDEX)!.toString()) as BundleIndex;

async function verify(files: Files) {
  const out = new Map(files);
  out.set(MANIFEST, Buffer.from(manifestText(out)));
  return verifyBundle(await writeZip(out), s.trust);
}

/** The codes of the failed claim `id`'s findings. */
async function failed(files: Files, id: string) {
  const report = await verify(files);
  expect(report.ok).toBe(false);
  return report.claims.find((c) => c.id === id)?.findings.map((f) => f.code) ?? [];
}

function withIndex(files: Files, edit: (c: BundleIndex["cycles"][number]) => void): Files {
  const index = indexOf(files);
  edit(index.cycles[0]!);
  return new Map(files).set(INDEX, Buffer.from(canonicalBytes(index)));
}

describe("a bundle of a ledger-judged cycle", () => {
  it("carries each event with its entry and proof, and verifies though the claimed times disagree with ledger order", async () => {
    const c = indexOf(judged).cycles[0]!;
    expect(c.events).toHaveLength(4);
    expect(c.seal).toBeDefined();
    expect(c.events!.map((e) => e.seq)).toEqual([...c.events!.map((e) => e.seq)].sort((a, b) => a - b));
    for (const e of c.events!) {
      expect(judged.has(objectPath(e.object))).toBe(true);
      expect(JSON.parse(judged.get(eventFile(1, e.seq, "entry.json"))!.toString())).toMatchObject({
        kind: "event",
        object: e.object,
        seq: e.seq,
      });
      expect(judged.has(eventFile(1, e.seq, "inclusion.json"))).toBe(true);
    }
    const record = JSON.parse(judged.get("records/1/record.json")!.toString()) as PromotionRecord;
    // model-risk claims to have signed before data-governance, though it was appended after.
    expect(record.approvals[1]!.signedAt < record.approvals[0]!.signedAt).toBe(true);
    const report = await verifyBundle(await writeZip(judged), s.trust);
    expect(report.claims.filter((x) => !x.ok)).toEqual([]);
    expect(report.claims.map((x) => x.id)).toContain("cycle-1.events");
  });

  it("judged by the claimed times instead (the events dropped as a tag-carried cycle), the order fails", async () => {
    // The seal names events, so dropping them from the index is caught; and the chain by
    // claimed signedAt would not reach the record's decision either.
    const stripped = withIndex(judged, (c) => void delete c.events);
    for (const e of indexOf(judged).cycles[0]!.events!) {
      stripped.delete(eventFile(1, e.seq, "entry.json"));
      stripped.delete(eventFile(1, e.seq, "inclusion.json"));
      stripped.delete(objectPath(e.object));
    }
    const report = await verify(stripped);
    expect(report.ok).toBe(false);
    const codes = report.claims.filter((x) => !x.ok).flatMap((x) => x.findings.map((f) => f.code));
    expect(codes).toContain("OBJECT_MISSING");
    expect(codes).toContain("POLICY_MISMATCH");
  });

  it("a tampered event object fails the events claim", async () => {
    const e = indexOf(judged).cycles[0]!.events![1]!;
    const bytes = Buffer.from(judged.get(objectPath(e.object))!);
    bytes[bytes.length - 3]! ^= 1;
    expect(await failed(new Map(judged).set(objectPath(e.object), bytes), "cycle-1.events")).toContain(
      "DIGEST_MISMATCH",
    );
  });

  it("a missing event fails, whether only its object is gone or it is dropped from the index too", async () => {
    const e = indexOf(judged).cycles[0]!.events![0]!;
    const gone = new Map(judged);
    gone.delete(objectPath(e.object));
    expect(await failed(gone, "cycle-1.events")).toContain("OBJECT_MISSING");

    const dropped = withIndex(judged, (c) => (c.events = c.events!.slice(1)));
    dropped.delete(objectPath(e.object));
    dropped.delete(eventFile(1, e.seq, "entry.json"));
    dropped.delete(eventFile(1, e.seq, "inclusion.json"));
    const codes = await failed(dropped, "cycle-1.events");
    // The seal names it; and the record's first approval is named by no event left.
    expect(codes).toContain("OBJECT_MISSING");
    expect(codes).toContain("APPROVAL_MISMATCH");
  });

  it("a wrong entry line fails: another event's entry, or an entry moved to another seq", async () => {
    const [a, b] = indexOf(judged).cycles[0]!.events!;
    const swapped = new Map(judged).set(
      eventFile(1, a!.seq, "entry.json"),
      judged.get(eventFile(1, b!.seq, "entry.json"))!,
    );
    expect(await failed(swapped, "cycle-1.events")).toContain("ENTRY_MALFORMED");

    // The entry edited to claim another time: it no longer hashes into the checkpoint's tree.
    const line = judged.get(eventFile(1, a!.seq, "entry.json"))!.toString();
    const edited = line.replace(/"time":"(\d{4})/, (_m, y: string) => `"time":"${Number(y) + 1}`);
    const moved = new Map(judged).set(eventFile(1, a!.seq, "entry.json"), Buffer.from(edited));
    expect(await failed(moved, "cycle-1.events")).toContain("INCLUSION_INVALID");
  });

  it("events listed out of ledger order fail", async () => {
    const reordered = withIndex(judged, (c) => c.events!.reverse());
    const codes = await failed(reordered, "cycle-1.events");
    expect(codes).toContain("ENTRY_SEQUENCE");
    expect(codes).toContain("OBJECT_MISSING"); // the seal's list, in its order, is not the index's
  });

  it("a seal object that is not the one the record's entry names fails the inclusion claim", async () => {
    const other = withIndex(judged, (c) => (c.seal = `sha256:${"0".repeat(64)}`));
    expect(await failed(other, "cycle-1.inclusion")).toContain("SEAL_INVALID");
  });
});

describe("VERIFY.md of a ledger-judged cycle", () => {
  it("checks every event and the decisions' ledger order with the shell tools alone", async () => {
    const r = await runVerifyMd(judged, s.pki.trust.anchors);
    for (const run of r.runs) expect(run.code, `${run.block}\n${run.out}`).toBe(0);
    expect(r.out).not.toContain("FAILED");
    expect(r.out).toMatch(
      /OK: the record's approvals \(data-governance, model-risk, [^)]*\) are in ledger order/,
    );
    for (const e of indexOf(judged).cycles[0]!.events!)
      expect(r.out).toContain(`at ledger entry ${e.seq} is in the signed ledger`);
  });

  it("fails the order and the entry checks when two decisions' entry lines are swapped", async () => {
    const [a, b] = indexOf(judged).cycles[0]!.events!;
    const swapped = new Map(judged)
      .set(eventFile(1, a!.seq, "entry.json"), judged.get(eventFile(1, b!.seq, "entry.json"))!)
      .set(eventFile(1, b!.seq, "entry.json"), judged.get(eventFile(1, a!.seq, "entry.json"))!);
    swapped.set(MANIFEST, Buffer.from(manifestText(swapped)));
    const r = await runVerifyMd(swapped, s.pki.trust.anchors);
    expect(r.out).toContain(`FAILED: entry ${a!.seq} names the event`);
    expect(r.out).toMatch(/FAILED: the record's approvals .* are in ledger order/);
  });
});

describe("a bundle of a tag-carried cycle", () => {
  it("has no events, reports the claims it always did, and verifies", async () => {
    for (const c of indexOf(tagged).cycles) expect(c.events).toBeUndefined();
    const report = await verifyBundle(await writeZip(tagged), s.trust);
    expect(report.ok).toBe(true);
    expect(report.claims.some((x) => x.id.endsWith(".events"))).toBe(false);
  });
});
