import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  type PromotionRecord,
  PromotionRecord as Schema,
  recordBytes,
  recordDigest,
} from "../../src/record/schema.js";

const d = (c: string) => `sha256:${c.repeat(64)}`;

export const sampleRecord = (): PromotionRecord => ({
  type: "sealgate.promotion-record/1",
  model: {
    registry: "http://mlflow.internal:5000",
    name: "credit-risk",
    version: "3",
    source: "models:/m-fc28ce04bd57445db92fa3bf61782f45",
    runId: "082a2b0ca78443769df4fc18e88d6b92",
    contentDigest: d("a"),
    manifest: d("b"),
  },
  challenger: {
    against: "incumbent",
    alias: "champion",
    name: "credit-risk",
    version: "1",
    contentDigest: d("c"),
    evaluationSet: "eval_credit3",
    candidate: { auc: 0.91, "AUC (ΔROC)": 0.30000000000000004, 指标: 1e21 },
    challenger: { auc: 0.88, "AUC (ΔROC)": 0.1, 指标: 2 ** 53 + 2 },
    delta: { auc: 0.030000000000000027 },
  },
  request: {
    object: d("d"),
    justification: "Adds tenure_months; AUC +3 points on eval_credit3.",
    scope: "retail lending, EU",
    intendedDeployment: "batch scoring, nightly",
    knownLimitations: "thin-file applicants under-represented — see slice report",
  },
  approvals: [
    {
      role: "model-risk",
      decision: "approve",
      signedAt: "2026-11-21T10:00:00.000Z",
      identity: {
        subject: "CN=李雷, O=Example Bank",
        email: "li.lei@example.org",
        issuer: "CN=Issuing CA",
        fingerprint: "e".repeat(64),
      },
      assertion: d("f"),
    },
  ],
  explanation: {
    object: d("1"),
    mediaType: "image/png",
    name: "explanations/shap-credit-3.png",
    size: 20480,
  },
  dataset: {
    contentAddressed: true,
    name: "eval_credit3",
    context: "eval",
    digest: d("2"),
    size: 12345,
    resolvedFrom: "mlflow-artifact",
    location: "datasets/eval-credit3.csv",
    mlflowDigest: "1a2b3c4d",
    mlflowSource: '{"uri": "/data/eval-credit3.csv"}',
  },
  decision: "approved",
  materiality: { tier: "material", reasons: ["feature set changed: +tenure_months"] },
  policy: { digest: d("3"), version: "2026-11" },
  featurePipeline: { version: "fp-2026.11.2", digest: null },
  conditions: ["re-review after 180 days"],
  cycle: { number: 2, previous: d("4") },
  observedAt: "2026-11-21T09:59:58.000Z",
  sealedAt: "2026-11-21T10:00:01.000Z",
});

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
