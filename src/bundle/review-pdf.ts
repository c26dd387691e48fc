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
 * over the store, so the answer never depends on today's renderer. The pass reads an object
 * only until its first bytes show it is no PDF; a PDF is streamed through to keep its last
 * 4 KiB, where the trailer is (any backend gives streams; none need offer random access).
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
    const tail = await pdfTail(store, digest);
    const id = tail && pdfId(tail);
    if (id) ids.set(id, [...(ids.get(id) ?? []), digest]);
  }
  return ids;
}

/** The last TAIL bytes of a stored PDF; undefined as soon as the object turns out not to be one. */
async function pdfTail(store: EvidenceStore, digest: Digest): Promise<Buffer | undefined> {
  const stream = await store.open(digest);
  let head = Buffer.alloc(0);
  let tail = Buffer.alloc(0);
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      if (head.length < PDF_HEADER.length) {
        head = Buffer.concat([head, chunk.subarray(0, PDF_HEADER.length - head.length)]);
        if (head.length === PDF_HEADER.length && !head.equals(PDF_HEADER)) return undefined;
      }
      tail = Buffer.concat([tail, chunk]);
      if (tail.length > TAIL) tail = tail.subarray(tail.length - TAIL);
    }
  } finally {
    stream.destroy();
  }
  return head.equals(PDF_HEADER) ? tail : undefined;
}
