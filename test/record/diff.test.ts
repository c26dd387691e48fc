import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parseModelCard } from "../../src/governance/review/model-card.js";
import { canonicalBytes } from "../../src/record/canonical.js";
import { diffFields } from "../../src/record/diff.js";

const same = (a: unknown, b: unknown) =>
  Buffer.from(canonicalBytes(a)).equals(Buffer.from(canonicalBytes(b)));

describe("the resubmission diff", () => {
  it("names each added, removed and changed field by its path, with the JSON before and after", () => {
    expect(
      diffFields(
        { request: { justification: "a", scope: "EU" }, metrics: { auc: 0.9 }, card: null },
        { request: { justification: "b", scope: "EU" }, metrics: { auc: 0.9, ks: 0.4 }, extra: [1] },
      ),
    ).toEqual([
      { path: "card", kind: "removed", before: "null" },
      { path: "extra", kind: "added", after: "[1]" },
      { path: "metrics.ks", kind: "added", after: "0.4" },
      { path: "request.justification", kind: "changed", before: '"a"', after: '"b"' },
    ]);
  });

  it("treats a field named like an Object method as an ordinary added field", () => {
    expect(diffFields({}, { toString: 1, constructor: "x" })).toEqual([
      { path: "constructor", kind: "added", after: '"x"' },
      { path: "toString", kind: "added", after: "1" },
    ]);
  });

  it("is empty exactly when both sides are the same JSON", () => {
    const json = fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.parse(JSON.stringify(v)) as unknown);
    fc.assert(
      fc.property(json, json, (a, b) => {
        expect(diffFields(a, a)).toEqual([]);
        expect(diffFields(a, b).length === 0).toBe(same(a, b));
      }),
    );
  });
});

describe("the model card", () => {
  it("reads YAML or JSON, and a single limitation as a list", () => {
    const card = parseModelCard(
      Buffer.from('{"intendedUse":"x","limitations":"thin files","deploymentTargets":["prod-eu"],"extra":1}'),
      "card.json",
    );
    expect(card).toMatchObject({
      intendedUse: "x",
      limitations: ["thin files"],
      deploymentTargets: ["prod-eu"],
    });
  });

  it("names the missing field and the schema", () => {
    expect(() => parseModelCard(Buffer.from("intendedUse: x\nlimitations: []\n"), "model_card.yaml")).toThrow(
      /model card model_card.yaml is incomplete \(schema: schemas\/model-card.schema.json\):[\s\S]*deploymentTargets/,
    );
    expect(() => parseModelCard(Buffer.from("a: [\n"), "m.yaml")).toThrow(/not valid YAML or JSON/);
  });
});
