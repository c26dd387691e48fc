import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { sampleRecord } from "../../src/dev/sample-record.js";
import {
  type PromotionRecord,
  PromotionRecord as Schema,
  recordBytes,
  recordDigest,
} from "../../src/record/schema.js";

describe("the sealed promotion record", () => {
  it("has one digest: SHA-256 of its RFC 8785 bytes, whatever the member order", () => {
    const r = sampleRecord();
    const reverse = (v: unknown): unknown =>
      Array.isArray(v)
        ? v.map(reverse)
        : v && typeof v === "object"
          ? Object.fromEntries(
              Object.entries(v)
                .reverse()
                .map(([k, x]) => [k, reverse(x)]),
            )
          : v;
    const shuffled = reverse(r) as PromotionRecord;
    expect(Object.keys(shuffled)[0]).toBe("sealedAt");
    expect(recordDigest(shuffled)).toBe(recordDigest(r));
    expect(Buffer.from(recordBytes(r)).toString()).toContain('"指标":1e+21');
  });

  it("changes digest when any leaf value changes", () => {
    const base = recordDigest(sampleRecord());
    fc.assert(
      fc.property(
        fc.constantFrom(
          "model.version",
          "challenger.delta.auc",
          "request.scope",
          "approvals.0.role",
          "explanation.size",
          "sealedAt",
        ),
        (path) => {
          const r = sampleRecord() as unknown as Record<string, unknown>;
          const keys = path.split(".");
          let o = r as Record<string, unknown>;
          for (const k of keys.slice(0, -1)) o = o[k] as Record<string, unknown>;
          const last = keys[keys.length - 1]!;
          const v = o[last];
          o[last] =
            typeof v === "number"
              ? v + 1
              : v === "3"
                ? "4"
                : `${v}x`.replace("Zx", "1Z").replace(/\.000Z.*/, ".001Z");
          expect(recordDigest(r as unknown as PromotionRecord)).not.toBe(base);
        },
      ),
    );
  });

  it("refuses unknown fields, URLs for objects, and non-finite metrics, naming the field", () => {
    const extra = { ...sampleRecord(), note: "typo" };
    expect(Schema.safeParse(extra).error?.issues[0]?.code).toBe("unrecognized_keys");
    const url = sampleRecord();
    (url.explanation as { object: string }).object = "https://dashboard.example.com/shap";
    expect(Schema.safeParse(url).error?.issues[0]?.path).toEqual(["explanation", "object"]);
    const nan = sampleRecord();
    nan.challenger.candidate.auc = Number.NaN;
    expect(Schema.safeParse(nan).success).toBe(false);
  });
});
