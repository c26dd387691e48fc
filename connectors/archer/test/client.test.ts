import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { SealgateError } from "../../../src/core/errors.js";
import type { ArcherSimulator } from "../simulator/server.js";
import { delivery, destination, digestOf, file, push, startSim } from "./helpers.js";

let sim: ArcherSimulator;
beforeEach(async () => {
  sim = await startSim();
});
afterEach(async () => {
  await sim.close();
});

describe("Archer destination: find, create, files", () => {
  it("creates a record with typed fields that find() returns again", async () => {
    const dest = destination(sim);
    await dest.prepare();
    const d = delivery(7);
    expect(await dest.find(d.correlation)).toBeNull();
    const ref = await dest.create(d);
    expect(await dest.find(d.correlation)).toEqual(ref);
    const [record] = sim.records();
    expect(record).toMatchObject({
      id: ref.id,
      correlation: d.correlation,
      fields: {
        Title: "credit-risk v7: approved",
        "Model Version": 7,
        Decision: ["Approved"],
        "Sealed At": "2026-11-21T07:00:00Z",
        "Tracking ID": Number(ref.id),
      },
      files: [],
    });
    await dest.close();
  });

  it("finds a values-list entry ignoring case and taking _ as a space: changes_requested is Changes Requested", async () => {
    const dest = destination(sim);
    const decided = async (decision: string) => {
      const d = delivery(8);
      const ref = await dest.create({ ...d, fields: { ...d.fields, Decision: decision } });
      return sim.records().find((r) => r.id === ref.id)?.fields.Decision;
    };
    expect(await decided("changes_requested")).toEqual(["Changes Requested"]);
    await dest.close();
  });

  it("uploads files that listFiles reports by name, size and sha256, keeping earlier ones", async () => {
    const dest = destination(sim);
    const ref = await dest.create(delivery(1));
    const a = file("record.json", '{"a":1}');
    const b = file("record.pdf", new Uint8Array([0, 255, 1, 254, 37, 80, 68, 70]));
    await dest.upload(ref, a);
    await dest.upload(ref, b);
    await dest.finish(ref);
    expect(await dest.listFiles(ref)).toEqual([
      { name: "record.json", size: a.bytes.length, sha256: a.sha256 },
      { name: "record.pdf", size: b.bytes.length, sha256: b.sha256 },
    ]);
    expect(sim.records()[0]?.files.map((f) => f.sha256)).toEqual([a.sha256, b.sha256]);
    await dest.close();
  });

  it("links concurrent uploads to one record without losing any (read-modify-write is serialised)", async () => {
    const dest = destination(sim);
    const ref = await dest.create(delivery(2));
    const files = Array.from({ length: 6 }, (_, i) => file(`f${i}.bin`, `content ${i}`));
    await Promise.all(files.map((f) => dest.upload(ref, f)));
    // Two finishes at once (the second finds nothing left to link).
    await Promise.all([dest.finish(ref), dest.finish(ref)]);
    expect((await dest.listFiles(ref)).map((f) => f.name).sort()).toEqual(files.map((f) => f.name).sort());
    await dest.close();
  });

  it("delivers a new record with five files in 11 requests: files stored one by one, linked in one update", async () => {
    const dest = destination(sim);
    const names = ["evidence.json", "record.json", "record.jws", "record.p7s", "record.pdf"];
    const requests = () =>
      Object.entries(sim.stats())
        .filter(([k]) => /^(GET|POST|PUT|DELETE) /.test(k))
        .reduce((n, [, v]) => n + v, 0);
    // The first delivery also logs in and reads metadata and values lists, once per process.
    await push(
      dest,
      delivery(
        3,
        names.map((n) => file(n, `first ${n}`)),
      ),
    );
    const before = requests();
    const files = names.map((n) => file(n, `bytes of ${n}`));
    await push(dest, delivery(4, files));
    // find, create, list (one read), 5 stores, then read, update and the confirming read.
    expect(requests() - before).toBe(11);
    expect(sim.records()[1]?.files.map((f) => f.name)).toEqual(names);
    expect(sim.orphans()).toBe(0);
    await dest.close();
  });

  it("resumes after a crash between create and upload: same record, missing files only", async () => {
    const files = [file("record.json", "{}"), file("record.jws", "eyJ.x.y")];
    const d = delivery(3, files);
    const first = destination(sim);
    const ref = await first.create(d);
    await first.upload(ref, files[0] as never);
    await first.finish(ref);
    // The process dies here; a new one starts from scratch.
    const second = destination(sim);
    await second.prepare();
    expect(await push(second, d)).toBe(ref.id);
    expect(await push(second, d)).toBe(ref.id);
    const records = sim.records();
    expect(records).toHaveLength(1);
    expect(records[0]?.files.map((f) => f.name)).toEqual(["record.json", "record.jws"]);
    await Promise.all([first.close(), second.close()]);
  });

  it("refuses a second record with the same digest instead of guessing", async () => {
    const dest = destination(sim);
    await dest.create(delivery(4));
    await dest.create(delivery(4)); // what a careless engine would do
    await expect(dest.find(digestOf(4))).rejects.toMatchObject({ code: "ARCHER_DUPLICATE_RECORD" });
    await dest.close();
  });

  it("refuses values that cannot take the field's type, naming the field", async () => {
    const dest = destination(sim);
    const bad = async (fields: Record<string, string | number | boolean | null>) => {
      const err = await dest
        .create({ ...delivery(5), fields: { ...delivery(5).fields, ...fields } })
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(SealgateError);
      return (err as SealgateError).message;
    };
    expect(await bad({ "Model Version": "three" })).toMatch(/fields\.Model Version.*not a number/);
    expect(await bad({ Decision: "maybe" })).toMatch(
      /fields\.Decision.*"maybe" is not an entry.*Approved, Rejected/,
    );
    expect(await bad({ "Sealed At": "yesterday" })).toMatch(/fields\.Sealed At.*ISO 8601/);
    expect(await bad({ "Model Registry": "not a url" })).toMatch(/fields\.Model Registry.*URL/);
    expect(await bad({ "Evidence Files": "x" })).toMatch(/fields\.Evidence Files/);
    expect(await bad({ Nope: "x" })).toMatch(/fields\.Nope.*no field "Nope"/);
    expect(await bad({ "Record Digest": "sha256:other" })).toMatch(/correlation field/);
    expect(sim.records()).toHaveLength(0);
    await dest.close();
  });

  it("writes external links and accepts the digest when the mapping names the correlation field", async () => {
    const dest = destination(sim);
    const d = delivery(6);
    await dest.create({
      ...d,
      fields: { ...d.fields, "Model Registry": "https://mlflow.example/m/1", "Record Digest": d.correlation },
    });
    expect(sim.records()[0]?.fields["Model Registry"]).toEqual([
      { Name: "https://mlflow.example/m/1", URL: "https://mlflow.example/m/1" },
    ]);
    await dest.close();
  });

  it("surfaces Archer's own validation message when a required field is missing (HTTP 200 envelope)", async () => {
    const dest = destination(sim);
    const { Title: _omit, ...fields } = delivery(8).fields;
    await expect(dest.create({ ...delivery(8), fields })).rejects.toThrow(
      /Archer refused: The Title field is a required field/,
    );
    await dest.close();
  });

  it("treats a validation failure answered with HTTP 400 the same way", async () => {
    await sim.close();
    sim = await startSim({ validationStatus: 400 });
    const dest = destination(sim);
    const { Title: _omit, ...fields } = delivery(8).fields;
    await expect(dest.create({ ...delivery(8), fields })).rejects.toThrow(
      /400.*The Title field is a required field/,
    );
    await dest.close();
  });
});
