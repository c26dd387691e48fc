import type { Digest } from "../../core/digest.js";
import { documentIdOf, pdfId } from "../../crypto/sign/pdf-id.js";
import type { EvidenceStore } from "./evidence-store.js";

/**
 * The stored object `digest` if it is the PDF of `of` (a record or package digest): the store
 * holds it and its /ID is `of`'s. One read; an object not in the store is not an error here.
 */
export async function storedPdfOf(
  store: Pick<EvidenceStore, "get">,
  digest: Digest,
  of: string,
): Promise<Uint8Array | undefined> {
  const bytes = await store.get(digest).catch((err: unknown) => {
    if ((err as { code?: string }).code === "OBJECT_MISSING") return undefined;
    throw err;
  });
  return bytes && pdfId(bytes) === documentIdOf(of) ? bytes : undefined;
}
