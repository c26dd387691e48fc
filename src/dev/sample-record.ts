import { PromotionRecord, recordBytes } from "../record/schema.js";
import { SEAL_TYPE, sealBytes } from "../record/seal.js";
import type { Digest } from "../core/digest.js";
import type { EvidenceStore } from "../evidence/store/evidence-store.js";
import type { Ledger } from "../evidence/ledger/ledger.js";

/*
 * A complete, valid promotion record for tests, benchmarks and crash tests, and a way to store
 * one with every object it references, so the verifier finds real bytes behind each digest.
 */

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
  materiality: {
    tier: "material",
    reasons: ["feature set changed: +tenure_months"],
    chain: ["data-governance", "model-risk", "fair-lending", "ai-committee"],
  },
  package: `sha256:${"5".repeat(64)}`,
  policy: { digest: d("3"), version: "2026-11" },
  featurePipeline: { version: "fp-2026.11.2", digest: null },
  modelCard: {
    object: d("6"),
    path: "model_card.yaml",
    intendedUse: "Scoring retail credit applications in the EU",
    limitations: ["Thin-file applicants score less reliably"],
    targets: ["prod-eu", "staging"],
  },
  conditions: ["re-review after 180 days"],
  annotations: [],
  cycle: {
    number: 2,
    previous: d("4"),
    changes: [
      {
        path: "request.justification",
        kind: "changed",
        before: '"adds tenure"',
        after: '"adds tenure_months; fairness review attached"',
      },
    ],
  },
  observedAt: "2026-11-21T09:59:58.000Z",
  sealedAt: "2026-11-21T10:00:01.000Z",
});

/** Store the objects a record refers to, then the record itself; returns the record's digest. */
export async function storeSampleRecord(store: EvidenceStore, seed: string): Promise<Digest> {
  const r = sampleRecord();
  r.model.manifest = await store.put(Buffer.from(`{"manifest":"${seed}"}`));
  r.request.object = await store.put(Buffer.from(`request text ${seed}`));
  r.explanation.object = await store.put(Buffer.from(`png bytes ${seed}`));
  r.modelCard!.object = await store.put(Buffer.from(`intendedUse: card ${seed}`));
  r.approvals[0]!.assertion = await store.put(Buffer.from(`jws ${seed}`));
  r.package = await store.put(Buffer.from(`{"package":"${seed}"}`));
  r.policy.digest = await store.put(Buffer.from("version: 2026-11\n"));
  // A first cycle: the sample's previous record is not in this store.
  r.cycle = { number: 1, previous: null, changes: [] };
  r.sealedAt = new Date().toISOString();
  return store.put(recordBytes(r));
}

/**
 * A sample record sealed as the sealer seals it, with stand-in renderings (not real
 * signatures: for tests of the store and ledger, not of signatures): the record and its
 * objects, JWS, CMS and PDF bytes, the seal object, then the ledger entry.
 */
export async function sealSampleRecord(
  store: EvidenceStore,
  ledger: Pick<Ledger, "append">,
  seed: string,
): Promise<{ record: Digest; seal: Digest; seq: number }> {
  const record = await storeSampleRecord(store, seed);
  const r = PromotionRecord.parse(JSON.parse(Buffer.from(await store.get(record)).toString("utf8")));
  const seal = await store.put(
    sealBytes({
      type: SEAL_TYPE,
      record,
      jws: await store.put(Buffer.from(`{"record jws":"${seed}"}`)),
      cms: await store.put(Buffer.from(`cms ${seed}`)),
      pdf: await store.put(Buffer.from(`%PDF-1.7 ${seed}`)),
      package: r.package as Digest,
      policy: r.policy.digest as Digest,
    }),
  );
  const { seq } = await ledger.append({ kind: "record", object: record, seal });
  return { record, seal, seq };
}
