import { describe, expect, it } from "vitest";
import { SealgateError } from "../../../src/core/errors.js";
import type { VantaSimulatorHandle } from "../simulator/server.js";
import { delivery, file, push, simulatorPerTest } from "./helpers.js";

const vanta = simulatorPerTest();
const dest = vanta.dest;
let sim: VantaSimulatorHandle;

describe("Vanta destination against the simulator", () => {
  it("creates one document per record with every file byte-equal, then submits it", async () => {
    sim = await vanta.start();
    const { dest: d } = dest();
    const rec = delivery(1, { description: "Promotion of credit-risk v1", isSensitive: "true" });
    const id = await push(d, rec);
    const [doc, ...rest] = sim.records();
    expect(rest).toEqual([]);
    expect(doc?.id).toBe(id);
    expect(doc?.correlation).toBe(rec.correlation);
    expect(doc?.fields).toMatchObject({
      title: `sealgate: credit-risk v1: approved [${rec.correlation}]`,
      description: "Promotion of credit-risk v1",
      isSensitive: true,
      timeSensitivity: "MOST_RECENT",
      cadence: "P0D",
      submitted: true,
    });
    expect(doc?.files.map((f) => [f.name, f.sha256])).toEqual(rec.files.map((f) => [f.name, f.sha256]));
  });

  it("pushing the same record again changes nothing", async () => {
    sim = await vanta.start();
    const { dest: d } = dest();
    const rec = delivery(2);
    const first = await push(d, rec);
    expect(await push(d, rec)).toBe(first);
    expect(await push(dest().dest, rec)).toBe(first);
    expect(sim.records()).toHaveLength(1);
    expect(sim.records()[0]?.files).toHaveLength(3);
  });

  it("after a crash between create and upload, a new process finds the document and finishes it", async () => {
    sim = await vanta.start();
    const rec = delivery(3);
    const crashed = dest().dest;
    const ref = await crashed.create(rec);
    await crashed.upload(ref, rec.files[0]!);
    // The process dies here; a fresh one (empty cache) resumes.
    const { dest: d } = dest();
    expect(await d.find(rec.correlation)).toEqual({ id: ref.id });
    expect((await d.listFiles(ref)).map((f) => f.name)).toEqual(["evidence.json"]);
    expect(await push(d, rec)).toBe(ref.id);
    const [doc, ...rest] = sim.records();
    expect(rest).toEqual([]);
    expect(doc?.files.map((f) => f.name)).toEqual(["evidence.json", "record.jws", "record.pdf"]);
  });

  it("finds a document another process created after this one cached its index", async () => {
    sim = await vanta.start();
    const { dest: mine } = dest();
    await mine.prepare();
    const rec = delivery(4);
    const other = await dest().dest.create(rec);
    expect(await mine.find(rec.correlation)).toEqual({ id: other.id });
    expect(await push(mine, rec)).toBe(other.id);
    expect(sim.records()).toHaveLength(1);
  });

  it("soleWriter lists once, then trusts misses; a lost create still re-lists before writing again", async () => {
    sim = await vanta.start();
    const { dest: d } = dest({ soleWriter: true });
    await d.create(delivery(20));
    for (let i = 21; i < 26; i++) await push(d, delivery(i));
    expect(await d.find(delivery(20).correlation)).not.toBeNull();
    expect(sim.stats()["GET /v1/documents"]).toBe(1);
    sim.setQuirks({ loseAnswers: { "POST /v1/documents": 1 } });
    await push(d, delivery(26));
    expect(sim.stats()["GET /v1/documents"]).toBe(2);
    expect(sim.records()).toHaveLength(7);
  });

  it("a create whose answer was lost does not become a second document", async () => {
    sim = await vanta.start();
    const { dest: d, clock } = dest();
    await d.prepare();
    sim.setQuirks({ loseAnswers: { "POST /v1/documents": 1 } });
    const rec = delivery(5);
    const ref = await d.create(rec);
    expect(sim.stats()["reset-after"]).toBe(1);
    expect(clock.waits.length).toBeGreaterThan(0);
    expect(sim.records().map((r) => r.id)).toEqual([ref.id]);
  });

  it("an upload whose answer was lost is not uploaded twice", async () => {
    sim = await vanta.start();
    const { dest: d } = dest();
    const rec = delivery(6);
    const ref = await d.create(rec);
    sim.setQuirks({ loseAnswers: { "POST /v1/documents/:id/uploads": 2 } });
    await push(d, rec);
    expect(sim.stats()["reset-after"]).toBe(2);
    expect(sim.records()[0]?.files.map((f) => f.name)).toEqual(["evidence.json", "record.jws", "record.pdf"]);
    expect(sim.records()[0]?.id).toBe(ref.id);
  });

  it("follows cursor pagination over documents and uploads", async () => {
    sim = await vanta.start();
    const seeder = dest().dest;
    for (let i = 0; i < 23; i++) await seeder.create(delivery(100 + i));
    const { dest: d } = dest({ pageSize: 4 });
    const target = delivery(111);
    const ref = await d.find(target.correlation);
    expect(ref).not.toBeNull();
    expect(sim.stats()["GET /v1/documents"]).toBe(6);
    for (let i = 0; i < 9; i++) await d.upload(ref!, file(`extra-${i}.txt`, `extra ${i}`));
    expect((await d.listFiles(ref!)).map((f) => f.name)).toHaveLength(9);
    expect(await d.find(delivery(999).correlation)).toBeNull();
  });

  it("with verifyUploads, reports the size and SHA-256 of the bytes Vanta serves", async () => {
    sim = await vanta.start();
    const { dest: d } = dest({ verifyUploads: true });
    const rec = delivery(12);
    const id = await push(d, rec);
    const listed = await d.listFiles({ id });
    expect(listed).toEqual(rec.files.map((f) => ({ name: f.name, size: f.bytes.length, sha256: f.sha256 })));
    // Bytes changed remotely are visible as a digest mismatch, not hidden behind the name.
    sim.state.documents[0]!.uploads[0]!.bytes = Buffer.from("tampered");
    expect((await d.listFiles({ id }))[0]?.sha256).not.toBe(rec.files[0]?.sha256);
    expect(await dest().dest.listFiles({ id })).toEqual(rec.files.map((f) => ({ name: f.name })));
  });

  it("a document deleted in Vanta is forgotten, and the next attempt creates it again", async () => {
    sim = await vanta.start();
    const { dest: d } = dest();
    const rec = delivery(18);
    const gone = await push(d, rec);
    sim.state.documents.splice(0, 1);
    await expect(push(d, rec)).rejects.toMatchObject({ status: 404 });
    const again = await push(d, rec);
    expect(again).not.toBe(gone);
    expect(sim.records().map((r) => [r.id, r.correlation, r.files.length])).toEqual([
      [again, rec.correlation, 3],
    ]);
  });

  it("treats a deleted upload as missing so the engine uploads it again", async () => {
    sim = await vanta.start();
    const { dest: d } = dest();
    const rec = delivery(7);
    await push(d, rec);
    const doc = sim.state.documents[0]!;
    doc.uploads[1]!.deletionDate = new Date().toISOString();
    expect((await d.listFiles({ id: doc.id })).map((f) => f.name)).toEqual(["evidence.json", "record.pdf"]);
    await push(d, rec);
    expect(
      sim
        .records()[0]
        ?.files.map((f) => f.name)
        .sort(),
    ).toEqual(["evidence.json", "record.jws", "record.pdf"]);
  });

  it("titles carry the target's prefix (or none) and always the digest", async () => {
    sim = await vanta.start();
    const rec = delivery(10);
    await dest({}, { titlePrefix: "" }).dest.create(rec);
    await dest({}, { titlePrefix: "MRM" }).dest.create(delivery(11, { title: null }));
    expect(sim.records().map((r) => r.fields.title)).toEqual([
      `credit-risk v10: approved [${rec.correlation}]`,
      `MRM [${delivery(11).correlation}]`,
    ]);
  });

  it("a refused second submit (undocumented upstream) is fine once the document is submitted", async () => {
    sim = await vanta.start({}, { resubmit: "reject" });
    const { dest: d } = dest();
    const rec = delivery(13);
    sim.setQuirks({ loseAnswers: { "POST /v1/documents/:id/submit": 1 } });
    const id = await push(d, rec);
    await push(d, rec);
    expect(sim.stats()["POST /v1/documents/:id/submit"]).toBe(3);
    expect(sim.records()[0]?.fields.submitted).toBe(true);
    // A refusal for any other reason still surfaces.
    const empty = await d.create(delivery(14));
    await expect(d.finish(empty)).rejects.toMatchObject({ status: 422 });
    expect(id).toBeTruthy();
  });

  it("relies on status codes only, whatever shape Vanta's error bodies take", async () => {
    for (const errorShape of ["name-message", "errors-array", "text"] as const) {
      sim = await vanta.start({}, { errorShape, resubmit: "reject" });
      const { dest: d } = dest();
      await push(d, delivery(15));
      await push(d, delivery(15));
      sim.setFaults({ burst429: 2, errorRate: 0 });
      await push(d, delivery(16));
      expect(sim.records()).toHaveLength(2);
      await expect(d.finish(await d.create(delivery(17)))).rejects.toMatchObject({ status: 422 });
      await sim.close();
    }
  });

  it("does not submit when the target says so", async () => {
    sim = await vanta.start();
    const { dest: d } = dest({}, { submit: false });
    await push(d, delivery(8));
    expect(sim.records()[0]?.fields.submitted).toBe(false);
    expect(sim.stats()["POST /v1/documents/:id/submit"]).toBeUndefined();
  });

  it("rejects a lookup value that is not a record digest", async () => {
    sim = await vanta.start();
    const { dest: d } = dest();
    await expect(d.find("credit-risk v3")).rejects.toMatchObject({ code: "USAGE" });
  });
});

describe("mapping checks", () => {
  it("checkMapping proves read access and reports fields Vanta documents lack", async () => {
    sim = await vanta.start();
    const { dest: d } = dest();
    const findings = await d.checkMapping([
      "title",
      "description",
      "owner",
      "is_sensitive",
      "cadance",
      "u_model",
    ]);
    expect(findings.map((f) => [f.field, f.problem])).toEqual([
      ["owner", "unknown-field"],
      ["is_sensitive", "unknown-field"],
      ["cadance", "unknown-field"],
      ["u_model", "unknown-field"],
    ]);
    expect(findings.map((f) => /did you mean (\w+)\?/.exec(f.detail)?.[1] ?? null)).toEqual([
      null,
      "isSensitive",
      "cadence",
      null,
    ]);
    expect(findings[0]?.detail).toContain("timeSensitivity");
    expect(sim.stats()["GET /v1/documents"]).toBe(1);
  });

  it("a mapped value Vanta would reject fails before anything is sent, naming the field", async () => {
    sim = await vanta.start();
    const { dest: d } = dest();
    const err = await d
      .create(delivery(9, { timeSensitivity: "SOMETIMES", isSensitive: 3, cadence: "quarterly" }))
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SealgateError);
    expect((err as SealgateError).code).toBe("CONFIG_INVALID");
    const message = (err as Error).message;
    for (const f of ["fields.timeSensitivity", "fields.isSensitive", "fields.cadence"])
      expect(message).toContain(f);
    expect(sim.records()).toEqual([]);
  });
});
