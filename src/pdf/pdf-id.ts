/** The trailer /ID: sealgate sets it to the first 16 bytes of the digest on the cover. */
export const pdfId = (pdf: Uint8Array) =>
  /\/ID \[\s*<([0-9A-Fa-f]{32})>/
    .exec(Buffer.from(pdf.subarray(-4096)).toString("latin1"))?.[1]
    ?.toLowerCase();
