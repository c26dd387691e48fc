import { renderReviewPdf as render } from "../governance/seal-pdf.js";
import { parsePolicy } from "../policy/schema.js";
import type { PromotionRecord, ReviewPackage } from "../record/schema.js";
import { sha256hex } from "../ledger/ledger.js";
import type { FsObjectStore } from "../store/fs-store.js";

/*
 * The review package's PDF (what the approvers read) is stored by `sealgate review`, but no
 * sealed document names its digest. It renders deterministically from objects the record does
 * name (package, explanation, manifest, policy thresholds), so export renders it again and
 * includes it only when the store holds exactly those bytes: the very file that was shown.
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
  record: PromotionRecord,
  pkg: ReviewPackage,
): Promise<{ digest: string; bytes: Uint8Array } | undefined> {
  const pdf = await renderReviewPdf(store, record, pkg);
  const digest = `sha256:${sha256hex(pdf)}`;
  return (await store.has(digest as never)) ? { digest, bytes: pdf } : undefined;
}
