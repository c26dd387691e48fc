import type { SealIndex } from "../evidence/store/seal-index.js";
import { documentIdOf, pdfId } from "../crypto/sign/pdf-id.js";
import { storedPdfOf } from "../evidence/store/stored-pdf.js";
import type { PromotionRecord } from "../record/schema.js";
import type { EvidenceStore } from "../evidence/store/evidence-store.js";
import type { Digest } from "../core/digest.js";

/*
 * The review package's PDF (what the approvers read) is stored by `sealgate review`, which
 * records its digest in the seal index; no sealed document names it. Export takes the recorded
 * file when the store holds it and its document ID is the package's. For stores reviewed before
 * the index recorded it, the stored PDF whose trailer /ID is the package's is found by one pass
 * over the store (each object's first bytes and, for a PDF, its last 4 KiB, through peek), so
 * the answer never depends on today's renderer.
 */

const TAIL = 4096;
const PDF_HEADER = Buffer.from("%PDF-");

export type ReviewPdf = { digest: string; bytes: Uint8Array };

/** Finds the review PDF of each record's package; the store is scanned at most once. */
export function reviewPdfFinder(store: EvidenceStore, index: SealIndex) {
  let byId: Promise<Map<string, Digest[]>> | undefined;
  const ofPackage = async (digest: string, pkg: string): Promise<ReviewPdf | undefined> => {
    const bytes = await storedPdfOf(store, digest as Digest, pkg);
    return bytes && { digest, bytes };
  };
  return async (record: PromotionRecord): Promise<ReviewPdf | undefined> => {
    const recorded = index.reviewPdf(record.package);
    const found = recorded && (await ofPackage(recorded, record.package));
    if (found) return found;
    byId ??= storedPdfIds(store);
    // Two would be the same package rendered by two sealgate versions: the smallest digest, so
    // every export of the event holds the same bytes.
    const candidates = (await byId).get(documentIdOf(record.package)) ?? [];
    for (const digest of [...candidates].sort()) {
      const found = await ofPackage(digest, record.package);
      if (found) return found;
    }
    return undefined;
  };
}

/** Stored PDFs (objects that begin %PDF-) by the document ID their trailer names. */
async function storedPdfIds(store: EvidenceStore): Promise<Map<string, Digest[]>> {
  const ids = new Map<string, Digest[]>();
  for await (const digest of store.list()) {
    if (!Buffer.from(await store.peek(digest, 0, PDF_HEADER.length)).equals(PDF_HEADER)) continue;
    const id = pdfId(Buffer.from(await store.peek(digest, -TAIL, TAIL)));
    if (id) ids.set(id, [...(ids.get(id) ?? []), digest]);
  }
  return ids;
}
