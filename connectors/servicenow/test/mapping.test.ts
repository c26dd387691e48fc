import { readFileSync } from "node:fs";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import type { Column } from "../dictionary.js";
import { misfit } from "../fields.js";
import { servicenow } from "../index.js";
import type { ServiceNowSimulator } from "../simulator/server.js";
import { startSim, testDestination } from "./helpers.js";

const column = (type: string, maxLength: number | null = 40): Column => ({
  table: "t",
  element: "c",
  type,
  maxLength,
  mandatory: false,
  readOnly: false,
  hasDefault: false,
});

describe("checkMapping against the live dictionary", () => {
  let sim: ServiceNowSimulator;
  beforeAll(async () => {
    sim = await startSim();
  });
  afterAll(() => sim.close());

  it("reports unknown and read-only columns from names alone", async () => {
    const dest = testDestination(sim);
    const findings = await dest.checkMapping([
      "short_description",
      "u_typo",
      "sys_created_on",
      "correlation_id",
    ]);
    expect(findings).toEqual([
      {
        field: "u_typo",
        problem: "unknown-field",
        detail: expect.stringMatching(/has no column u_typo.*silently drop/),
      },
      { field: "sys_created_on", problem: "read-only", detail: expect.stringMatching(/read-only/) },
    ]);
    await dest.close();
  });

  it("reports mistyped and over-long values when given a sample delivery's fields", async () => {
    const dest = testDestination(sim);
    const findings = await dest.checkMapping({
      short_description: "y".repeat(200),
      priority: "high",
      state: 2,
      active: "yes",
      review_type: true,
      opened_at: "2026-11-21 07:00:00",
      assigned_to: "Ada Lovelace",
    });
    expect(findings.map((f) => [f.field, f.problem])).toEqual([
      ["short_description", "wrong-type"],
      ["priority", "wrong-type"],
      ["active", "wrong-type"],
      ["assigned_to", "wrong-type"],
    ]);
    expect(findings[1]?.detail).toBe('priority is integer: expected a whole number, got "high"');
    await dest.close();
  });

  it("takes display values into reference columns when inputDisplayValue is set", async () => {
    const dest = testDestination(sim, { target: { inputDisplayValue: true } });
    expect(await dest.checkMapping({ assigned_to: "Ada Lovelace" })).toEqual([]);
    await dest.close();
  });

  it("reports mandatory columns the mapping leaves empty, and a missing correlation column", async () => {
    const dest = testDestination(sim, { target: { table: "sn_grc_ai_gov_ai_system" } });
    const findings = await dest.checkMapping(["description"]);
    expect(findings.map((f) => [f.field, f.problem])).toEqual([
      ["correlation_id", "unknown-field"],
      ["name", "required-missing"],
    ]);
    await dest.close();
  });

  it("the shipped default mapping is clean against the default table", async () => {
    const mapping = parse(readFileSync(servicenow.defaultMappingPath, "utf8")) as {
      target: unknown;
      fields: Record<string, unknown>;
      attachments: string[];
    };
    const target = servicenow.target.parse(mapping.target);
    expect(target.table).toBe("sn_grc_ai_gov_ai_system_task");
    expect(mapping.attachments).toEqual([
      "evidence.json",
      "record.json",
      "record.jws",
      "record.p7s",
      "record.pdf",
    ]);
    const dest = testDestination(sim, { target });
    expect(await dest.checkMapping(Object.keys(mapping.fields))).toEqual([]);
    await dest.close();
  });
});

describe("value checks (property)", () => {
  it("an integer column takes exactly the whole numbers", () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.integer().map(String)), (s) => {
        expect(misfit(column("integer"), s) === null).toBe(/^-?\d+$/.test(s));
      }),
    );
    fc.assert(
      fc.property(fc.integer(), (n) => {
        expect(misfit(column("integer"), n)).toBeNull();
      }),
    );
    fc.assert(
      fc.property(fc.double({ noInteger: true }), (n) => {
        expect(misfit(column("integer"), n)).not.toBeNull();
      }),
    );
  });

  it("a text column takes any value up to max_length and nothing longer", () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 120 }), fc.integer({ min: 1, max: 100 }), (s, max) => {
        expect(misfit(column("string", max), s) === null).toBe(s.length <= max);
      }),
    );
    fc.assert(
      fc.property(fc.boolean(), (b) => {
        expect(misfit(column("string"), b)).toBeNull();
      }),
    );
  });

  it("a boolean column takes only true and false", () => {
    fc.assert(
      fc.property(fc.oneof(fc.boolean(), fc.string(), fc.integer()), (v) => {
        expect(misfit(column("boolean"), v) === null).toBe(
          v === true || v === false || v === "true" || v === "false",
        );
      }),
    );
  });
});
