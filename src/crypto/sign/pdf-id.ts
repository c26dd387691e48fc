/** The trailer /ID sealgate gives a record's or package's PDF: the first 16 bytes of its digest. */
export const documentIdOf = (digest: string) => digest.slice(7, 39);

/** The trailer /ID a PDF carries (lower-case hex), read from its last 4 KiB. */
export const pdfId = (pdf: Uint8Array) =>
  /\/ID \[\s*<([0-9A-Fa-f]{32})>/
    .exec(Buffer.from(pdf.subarray(-4096)).toString("latin1"))?.[1]
    ?.toLowerCase();
