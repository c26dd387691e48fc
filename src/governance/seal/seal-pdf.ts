import { type HistoryEntry, renderRecordPdf, renderSignedRecordPdf } from "../../render/pdf/record-pdf.js";
import { canonicalBytes } from "../../record/canonical.js";
import type { VerifiedAssertion } from "../../policy/chain.js";
import type { Cycle, PromotionRecord, ReviewPackage } from "../../record/schema.js";
import type { Signer } from "../../crypto/sign/signer.js";
import type { EvidenceStore } from "../../evidence/store/evidence-store.js";
import { cycleHistory } from "../cycle/cycle.js";

/*
 * The sealed record as a signed PDF: the record, the approvals as signed, the history of every
 * earlier cycle with the diff each resubmission carried, and the machine-readable evidence
 * embedded, so the PDF alone holds what an auditor needs to re-check the digest.
 */

/** Earlier cycles oldest first, then this one (record or package) with the diff it carries. */
export async function historyOf(
  store: EvidenceStore,
  current: { cycle: Cycle; decision: string; digest: string },
): Promise<HistoryEntry[]> {
  const { cycle, decision, digest } = current;
  const earlier = await cycleHistory(store, cycle.previous);
  return [
    ...earlier.map((e) => ({
      cycle: e.record.cycle.number,
      decision: e.record.decision,
      record: e.digest,
      changes: e.record.cycle.changes,
    })),
    ...(earlier.length ? [{ cycle: cycle.number, decision, record: digest, changes: cycle.changes }] : []),
  ];
}

/** The review package's PDF, as `sealgate review` stores it for the approvers to read. */
export async function renderReviewPdf(
  store: EvidenceStore,
  pkg: ReviewPackage,
  digest: string,
  thresholds: Record<string, { min?: number; max?: number }>,
): Promise<Uint8Array> {
  return renderRecordPdf({
    kind: "review-package",
    record: pkg,
    digest,
    explanation: {
      bytes: await store.get(pkg.explanation.object as never),
      mediaType: pkg.explanation.mediaType,
    },
    approvals: [],
    history: await historyOf(store, { cycle: pkg.cycle, decision: "under review", digest }),
    thresholds,
    attachments: [
      {
        name: "review-package.json",
        bytes: canonicalBytes(pkg, "review package"),
        mimeType: "application/json",
        description: "the review package (RFC 8785): approvers sign its SHA-256",
      },
      {
        name: "model-manifest.json",
        bytes: await store.get(pkg.model.manifest as never),
        mimeType: "application/json",
        description: "every model file with its SHA-256",
      },
    ],
  });
}

export async function renderSealedPdf(
  store: EvidenceStore,
  signer: Signer,
  record: PromotionRecord,
  digest: string,
  bytes: Uint8Array,
  counted: VerifiedAssertion[],
  thresholds: Record<string, { min?: number; max?: number }>,
): Promise<Uint8Array> {
  return renderSignedRecordPdf(
    {
      kind: "sealed-record",
      record,
      digest,
      explanation: {
        bytes: await store.get(record.explanation.object as never),
        mediaType: record.explanation.mediaType,
      },
      approvals: counted.map((a) => ({
        ...a.identity,
        role: a.assertion.role,
        decision: a.assertion.decision,
        signedAt: a.assertion.signedAt,
        comment: a.assertion.comment,
      })),
      history: await historyOf(store, { cycle: record.cycle, decision: record.decision, digest }),
      thresholds,
      attachments: [
        {
          name: "record.json",
          bytes,
          mimeType: "application/json",
          description: "the sealed record (RFC 8785); its SHA-256 is the record digest",
        },
        ...counted.map((a, i) => ({
          name: `approval-${i + 1}-${a.assertion.role}.jws`,
          bytes: Buffer.from(a.jws),
          mimeType: "application/jose",
          description: `${a.identity.email}'s signed ${a.assertion.decision}`,
        })),
        {
          name: "model-manifest.json",
          bytes: await store.get(record.model.manifest as never),
          mimeType: "application/json",
          description: "every model file with its SHA-256",
        },
        ...(record.modelCard
          ? [
              {
                name: record.modelCard.path.split("/").pop()!,
                bytes: await store.get(record.modelCard.object as never),
                mimeType: record.modelCard.path.endsWith(".json") ? "application/json" : "application/yaml",
                description: "the model card as the model team shipped it",
              },
            ]
          : []),
      ],
    },
    signer,
  );
}
