import { renderReviewPdf as render } from "../governance/seal-pdf.js";
import type { SealIndex } from "../governance/seal-index.js";
import { pdfId } from "../pdf/pdf-id.js";
import { parsePolicy } from "../policy/schema.js";
import type { PromotionRecord, ReviewPackage } from "../record/schema.js";
import type { FsObjectStore } from "../store/fs-store.js";
import { digestOf } from "../store/object-store.js";

/*
 * The review package's PDF (what the approvers read) is stored by `sealgate review`, which
 * records its digest in the seal index; no sealed document names it. Export takes the recorded
 * file when the store holds it and its document ID is the package's. Stores reviewed before the
 * index recorded it: the PDF renders deterministically from objects the record names (package,
 * explanation, manifest, policy thresholds), so export renders it again and includes it only
 * when the store holds exactly those bytes (true only while the renderer is unchanged).
 */

/** The review PDF exactly as `sealgate review` renders it, from objects in the store. */
export async function renderReviewPdf(
  store: FsObjectStore,
  record: PromotionRecord,
  pkg: ReviewPackage,
): Promise<Uint8Array> {
  const policy = parsePolicy(await store.get(record.policy.digest as never), record.policy.digest).policy;
  return render(store, pkg, record.package, policy.thresholds);
}

export async function findReviewPdf(
  store: FsObjectStore,
  index: SealIndex,
  record: PromotionRecord,
  pkg: ReviewPackage,
): Promise<{ digest: string; bytes: Uint8Array } | undefined> {
  const recorded = index.reviewPdf(record.package);
  if (recorded && (await store.has(recorded as never))) {
    const bytes = await store.get(recorded as never);
    if (pdfId(bytes) === record.package.slice(7, 39)) return { digest: recorded, bytes };
  }
  const pdf = await renderReviewPdf(store, record, pkg);
  const digest = digestOf(pdf);
  return (await store.has(digest as never)) ? { digest, bytes: pdf } : undefined;
}
