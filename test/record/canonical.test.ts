import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { SealgateError } from "../../src/core/errors.js";
import { canonicalBytes } from "../../src/record/canonical.js";

const JCS = join(import.meta.dirname, "../fixtures/vectors/jcs");

describe("RFC 8785 vectors (cyberphone/json-canonicalization)", () => {
  const names = readdirSync(join(JCS, "input"));
  it("has the vectors", () => expect(names.length).toBeGreaterThanOrEqual(6));
  it.each(names)("%s", (name) => {
    const input = JSON.parse(readFileSync(join(JCS, "input", name), "utf8"));
    const expected = readFileSync(join(JCS, "output", name));
    const hex = readFileSync(join(JCS, "outhex", name.replace(/\.json$/, ".txt")), "utf8").replace(
      /\s+/g,
      "",
    );
    const got = Buffer.from(canonicalBytes(input));
    expect(got).toEqual(expected);
    expect(got.toString("hex")).toBe(hex.toLowerCase());
  });
});

describe("canonical JSON", () => {
  it("is independent of member order and idempotent", () => {
    fc.assert(
      fc.property(fc.jsonValue(), (v) => {
        const once = canonicalBytes(v);
        const again = canonicalBytes(JSON.parse(Buffer.from(once).toString("utf8")));
        expect(Buffer.from(again)).toEqual(Buffer.from(once));
      }),
      { numRuns: 500 },
    );
    expect(Buffer.from(canonicalBytes({ b: 1, a: { d: [3, "é"], c: null } })).toString()).toBe(
      '{"a":{"c":null,"d":[3,"é"]},"b":1}',
    );
  });

  it("writes floats, large integers and Unicode metric names the way RFC 8785 says", () => {
    const doc = { "AUC (ΔROC)": 0.1 + 0.2, big: 2 ** 53 + 2, tiny: 1e-7, 指标: -0, grosse: 1e21 };
    expect(Buffer.from(canonicalBytes(doc)).toString()).toBe(
      '{"AUC (ΔROC)":0.30000000000000004,"big":9007199254740994,"grosse":1e+21,"tiny":1e-7,"指标":0}',
    );
  });

  it("refuses what I-JSON forbids, naming where", () => {
    for (const bad of [{ x: Number.NaN }, { x: Number.POSITIVE_INFINITY }]) {
      expect(() => canonicalBytes(bad)).toThrow(/cannot be canonicalized/);
    }
    try {
      canonicalBytes({ metrics: [{ name: "bad\ud800" }] });
      expect.unreachable();
    } catch (e) {
      expect((e as SealgateError).code).toBe("CANONICAL_JSON_INVALID");
      expect((e as Error).message).toContain(".metrics[0].name");
    }
    expect(() => canonicalBytes({ tags: [{}, { ["stage\udc00"]: "prod" }] })).toThrow(
      "document at .tags[1].<key> holds a lone surrogate",
    );
    expect(() => canonicalBytes("\ud800")).toThrow("document at (root) holds a lone surrogate");
  });
});
