import { describe, expect, it } from "vitest";
import { contradictions, parseMetricClaims } from "../../src/dev/claims.js";

/*
 * The demo fails when a sealed request text says something about a metric that its own sealed
 * comparison does not show. These are the numbers the seed gives credit-risk v3 against its
 * champion v1 (the case issue 19 found: "AUC improves" beside an unchanged AUC).
 */

const creditV3 = {
  candidate: { accuracy: 0.88, auc: 0.93, psi: 0.06 },
  challenger: { accuracy: 0.88, auc: 0.93, psi: 0.02 },
  delta: { accuracy: 0, auc: 0, psi: 0.04 },
};
const fraudV3 = {
  candidate: { precision: 0.91 + 3 / 100, recall: 0.84 },
  challenger: { precision: 0.91, recall: 0.84 },
  delta: { precision: 0.91 + 3 / 100 - 0.91, recall: 0 },
};

describe("request text claims against the sealed comparison", () => {
  it("refuses the demo's old texts: AUC did not improve, and recall at 1% FPR is not recorded", () => {
    expect(() =>
      contradictions(
        "Adds tenure_months and moves to naive Bayes; AUC improves on the evaluation set.",
        creditV3,
      ),
    ).toThrow(/mentions auc without a checkable claim/);
    expect(() =>
      contradictions("New fraud model: adds merchant-category features; recall at 1% FPR rises.", fraudV3),
    ).toThrow(/mentions recall without a checkable claim/);
  });

  it("names a direction the numbers do not show", () => {
    expect(contradictions("AUC rises against the champion.", creditV3)).toEqual([
      "auc: text says up, record says 0.93 -> 0.93",
    ]);
    expect(contradictions("PSI falls.", creditV3)).toEqual(["psi: text says down, record says 0.02 -> 0.06"]);
    expect(contradictions("Recall drops", fraudV3)).toEqual([
      "recall: text says down, record says 0.84 -> 0.84",
    ]);
  });

  it("checks stated values at the precision they are written with", () => {
    expect(contradictions("precision rises from 0.91 to 0.94.", fraudV3)).toEqual([]);
    expect(contradictions("precision rises from 0.9 to 0.9.", fraudV3)).toEqual([]);
    expect(contradictions("precision rises from 0.91 to 0.95.", fraudV3)).toEqual([
      `precision: text says it is 0.95, record says ${0.91 + 3 / 100}`,
    ]);
    expect(contradictions("AUC holds at 0.92", creditV3)).toEqual([
      "auc: text says it was 0.92, record says 0.93",
      "auc: text says it is 0.92, record says 0.93",
    ]);
  });

  it("accepts the demo's texts for the seeded numbers", () => {
    const v3 =
      "Adds tenure_months and moves to naive Bayes, a simpler model at no loss: AUC holds at 0.93 and accuracy holds at 0.88 against the champion; PSI rises from 0.02 to 0.06.";
    expect(contradictions(v3, creditV3)).toEqual([]);
    const fraud =
      "New fraud model, retrained on the champion's inputs (same MLmodel signature): precision rises from 0.91 to 0.94 and recall holds at 0.84 against the champion; the explanation shows amount and merchant category drive the score.";
    expect(contradictions(fraud, fraudV3)).toEqual([]);
  });

  it("reads every mention, case-insensitively, and only whole metric names", () => {
    expect(
      parseMetricClaims("AUC rises; psi-adjusted auc is unchanged at 0.9, Accuracy falls", [
        "auc",
        "accuracy",
        "psi",
      ]),
    ).toEqual([
      { metric: "auc", direction: "up" },
      { metric: "auc", direction: "same", from: "0.9", to: "0.9" },
      { metric: "accuracy", direction: "down" },
    ]);
    expect(parseMetricClaims("because the AUCs are not metrics here", ["auc"])).toEqual([]);
  });

  it("refuses a claim on a metric only one side recorded", () => {
    const oneSided = { candidate: { auc: 0.9, f1: 0.7 }, challenger: { auc: 0.9 }, delta: { auc: 0 } };
    expect(contradictions("f1 rises", oneSided)).toEqual([
      "f1: claimed to change, but the comparison has no f1 for both",
    ]);
  });
});
