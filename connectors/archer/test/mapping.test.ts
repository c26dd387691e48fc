import { readFileSync } from "node:fs";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import { archer } from "../index.js";
import type { ArcherSimulator } from "../simulator/server.js";
import { delivery, destination, startSim } from "./helpers.js";

let sim: ArcherSimulator;
beforeEach(async () => {
  sim = await startSim();
});
afterEach(async () => {
  await sim.close();
});

describe("Archer mapping against live metadata", () => {
  it("the shipped default mapping has a valid target and no findings against the simulator", async () => {
    const mapping = parseYaml(readFileSync(archer.defaultMappingPath, "utf8")) as {
      target: unknown;
      fields: Record<string, unknown>;
      attachments: string[];
    };
    const target = archer.target.parse(mapping.target);
    expect(target).toMatchObject({ application: "Model Promotions", correlationField: "Record Digest" });
    expect(mapping.attachments).toEqual([
      "evidence.json",
      "record.json",
      "record.jws",
      "record.p7s",
      "record.pdf",
    ]);
    const dest = destination(sim, { target });
    expect(await dest.checkMapping(Object.keys(mapping.fields))).toEqual([]);
    await dest.close();
  });

  it("reports unknown, read-only and mistyped fields and unmapped required ones", async () => {
    const dest = destination(sim);
    const findings = await dest.checkMapping(["Titel", "Evidence Files", "Tracking ID", "Model Name"]);
    expect(findings).toEqual([
      { field: "Titel", problem: "unknown-field", detail: expect.stringContaining("Title, Record Digest") },
      {
        field: "Evidence Files",
        problem: "wrong-type",
        detail: expect.stringContaining("Attachment fields cannot"),
      },
      { field: "Tracking ID", problem: "read-only", detail: expect.stringContaining("computed by Archer") },
      {
        field: "Title",
        problem: "required-missing",
        detail: expect.stringContaining('Archer requires "Title" (Text)'),
      },
    ]);
    await dest.close();
  });

  it("reports a correlation or attachment field of the wrong type, and prepare() refuses it", async () => {
    const dest = destination(sim, {
      target: { correlationField: "Model Version", attachmentField: "Titel" },
    });
    const findings = await dest.checkMapping(["Title"]);
    expect(findings).toEqual([
      {
        field: "Model Version",
        problem: "wrong-type",
        detail: 'target.correlationField: the record digest must be a Text field, "Model Version" is Numeric',
      },
      { field: "Titel", problem: "unknown-field", detail: expect.stringContaining("target.attachmentField") },
    ]);
    await expect(dest.prepare()).rejects.toMatchObject({
      code: "ARCHER_MAPPING_INVALID",
      message: expect.stringMatching(
        /target\.correlationField: "Model Version" is a Numeric field; name a Text field/,
      ),
    });
    await dest.close();
  });

  it("names the application and suggests the right spelling", async () => {
    const dest = destination(sim, { target: { application: "model promotions" } });
    expect(await dest.checkMapping(["Title"])).toEqual([
      {
        field: "target.application",
        problem: "other",
        detail: expect.stringContaining('"model promotions"'),
      },
    ]);
    await expect(dest.prepare()).rejects.toThrow(
      /target\.application: no application named "model promotions".*did you mean "Model Promotions"/,
    );
    await dest.close();
  });

  it("selects the level by name, alias or id, and asks for one when the application has several", async () => {
    for (const level of ["Promotion Record", "Promotion_Record", 1187]) {
      const dest = destination(sim, { target: { level } });
      await dest.create(delivery(typeof level === "number" ? level : level.length));
      await dest.close();
    }
    expect(sim.records()).toHaveLength(3);
    const ambiguous = destination(sim, { target: { level: undefined } });
    await expect(ambiguous.prepare()).rejects.toThrow(
      /target\.level: application "Model Promotions" has 2 levels \(Promotion Record, Review Comment\)/,
    );
    await ambiguous.close();
    const wrong = destination(sim, { target: { level: "Nope" } });
    await expect(wrong.prepare()).rejects.toThrow(
      /no level "Nope".*Promotion Record \(alias Promotion_Record, id 1187\)/,
    );
    await wrong.close();
  });

  it("explains a missing Content API instead of reporting a bare 404", async () => {
    await sim.close();
    sim = await startSim({ noContentApi: true });
    const dest = destination(sim);
    await expect(dest.prepare()).rejects.toMatchObject({
      code: "ARCHER_MAPPING_INVALID",
      message: expect.stringMatching(
        /target\.level: the Content API has no endpoint contentapi\/Promotion_Record \(404\)/,
      ),
    });
    await dest.close();
  });
});
