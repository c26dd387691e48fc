import type { FsObjectStore } from "../store/fs-store.js";
import type { Digest } from "../core/digest.js";

/** The trailer /ID sealgate gives a record's or package's PDF: the first 16 bytes of its digest. */
export const documentIdOf = (digest: string) => digest.slice(7, 39);

/** The trailer /ID a PDF carries (lower-case hex), read from its last 4 KiB. */
export const pdfId = (pdf: Uint8Array) =>
  /\/ID \[\s*<([0-9A-Fa-f]{32})>/
    .exec(Buffer.from(pdf.subarray(-4096)).toString("latin1"))?.[1]
    ?.toLowerCase();

/**
 * The stored object `digest` if it is the PDF of `of` (a record or package digest): the store
 * holds it and its /ID is `of`'s. One read; an object not in the store is not an error here.
 */
export async function storedPdfOf(
  store: Pick<FsObjectStore, "get">,
  digest: Digest,
  of: string,
): Promise<Uint8Array | undefined> {
  const bytes = await store.get(digest).catch((err: unknown) => {
    if ((err as { code?: string }).code === "OBJECT_MISSING") return undefined;
    throw err;
  });
  return bytes && pdfId(bytes) === documentIdOf(of) ? bytes : undefined;
}
