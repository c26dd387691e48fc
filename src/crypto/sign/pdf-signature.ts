import { PDFArray, type PDFDocument, PDFHexString, PDFName, PDFNumber, PDFString } from "pdf-lib";
import { SealgateError } from "../../core/errors.js";
import type { Trust } from "../pki/trust.js";
import { signCmsDetached, type VerifiedCms, verifyCmsDetached } from "./cms.js";
import type { Signer } from "./signer.js";

/*
 * PAdES baseline B-B: an invisible signature field whose /Sig dictionary (SubFilter
 * ETSI.CAdES.detached) holds a CMS signature over every byte of the file except the /Contents
 * hex string itself. The document is laid out and saved first with a placeholder; the
 * signature is then written into the reserved space, so signing is the last write.
 */

/** Bytes reserved for the CMS signature (certificate chain included). */
export const SIGNATURE_SPACE = 16_384;
const RANGE_PLACEHOLDER = "**********";
// As pdf-lib writes the placeholder array (spaces inside the brackets).
const RANGE_TEXT = `/ByteRange [ 0 /${RANGE_PLACEHOLDER} /${RANGE_PLACEHOLDER} /${RANGE_PLACEHOLDER} ]`;

export interface SignatureInfo {
  time: Date;
  name: string;
  reason: string;
  location?: string;
}

/** Add the signature field and its placeholder dictionary; call before saving (no object streams). */
export function addSignaturePlaceholder(doc: PDFDocument, info: SignatureInfo): void {
  const ctx = doc.context;
  const byteRange = PDFArray.withContext(ctx);
  byteRange.push(PDFNumber.of(0));
  for (let i = 0; i < 3; i++) byteRange.push(PDFName.of(RANGE_PLACEHOLDER));
  const sig = ctx.register(
    ctx.obj({
      Type: "Sig",
      Filter: "Adobe.PPKLite",
      SubFilter: "ETSI.CAdES.detached",
      ByteRange: byteRange,
      Contents: PDFHexString.of("0".repeat(SIGNATURE_SPACE * 2)),
      M: PDFString.fromDate(info.time),
      Name: PDFHexString.fromText(info.name),
      Reason: PDFHexString.fromText(info.reason),
      ...(info.location ? { Location: PDFHexString.fromText(info.location) } : {}),
    }),
  );
  const page = doc.getPage(0);
  const widget = ctx.register(
    ctx.obj({
      Type: "Annot",
      Subtype: "Widget",
      FT: "Sig",
      Rect: [0, 0, 0, 0],
      V: sig,
      T: PDFHexString.fromText("sealgate seal"),
      F: 132,
      P: page.ref,
    }),
  );
  page.node.addAnnot(widget);
  doc.catalog.set(PDFName.of("AcroForm"), ctx.obj({ Fields: [widget], SigFlags: 3 }));
}

function locate(pdf: Buffer) {
  const range = pdf.lastIndexOf(RANGE_TEXT);
  if (range < 0) throw new SealgateError("SIGNATURE_MALFORMED", "PDF has no signature placeholder");
  const start = pdf.indexOf("/Contents <", range) + "/Contents ".length;
  const end = pdf.indexOf(">", start) + 1;
  if (start < range || end - start !== SIGNATURE_SPACE * 2 + 2) {
    throw new SealgateError("SIGNATURE_MALFORMED", "PDF signature placeholder is not where it should be");
  }
  return { range, start, end };
}

/** Sign a PDF that carries a placeholder; returns the signed bytes. */
export async function signPdf(bytes: Uint8Array, signer: Signer): Promise<Uint8Array> {
  const pdf = Buffer.from(bytes);
  const { range, start, end } = locate(pdf);
  const numbers = `/ByteRange [ 0 ${start} ${end} ${pdf.length - end} ]`;
  if (numbers.length > RANGE_TEXT.length)
    throw new SealgateError("SIGNATURE_MALFORMED", "PDF too large for its byte range");
  pdf.write(numbers.padEnd(RANGE_TEXT.length, " "), range, "latin1");
  const signed = Buffer.concat([pdf.subarray(0, start), pdf.subarray(end)]);
  const cms = Buffer.from(await signCmsDetached(signed, signer, null));
  if (cms.length > SIGNATURE_SPACE) {
    throw new SealgateError(
      "SIGNATURE_MALFORMED",
      `signature of ${cms.length} bytes exceeds the ${SIGNATURE_SPACE} reserved`,
    );
  }
  pdf.write(cms.toString("hex").padEnd(SIGNATURE_SPACE * 2, "0"), start + 1, "latin1");
  return new Uint8Array(pdf);
}

/**
 * The CMS inside the zero-padded /Contents: exactly the bytes its DER length names (a DER
 * value may itself end in 0x00, so trailing zeros cannot be stripped), and zeros after it.
 */
export function cmsFromContents(contents: Buffer): Buffer {
  const lenByte = contents[1] ?? 0;
  const n = lenByte & 0x80 ? lenByte & 0x7f : 0;
  const len = n ? contents.subarray(2, 2 + n).reduce((v, x) => v * 256 + x, 0) : lenByte;
  const end = 2 + n + len;
  if (contents[0] !== 0x30 || n > 4 || end > contents.length || contents.subarray(end).some((x) => x !== 0))
    throw new SealgateError(
      "SIGNATURE_MALFORMED",
      "PDF /Contents does not hold one DER CMS followed by zero padding",
    );
  return contents.subarray(0, end);
}

/** Verify the PDF's seal: byte range covers the whole file but /Contents, CMS valid, chain trusted at /M. */
export async function verifyPdfSignature(bytes: Uint8Array, trust: Trust): Promise<VerifiedCms> {
  const pdf = Buffer.from(bytes);
  const m = /\/ByteRange \[ ?0 (\d+) (\d+) (\d+) *\]/.exec(pdf.toString("latin1"));
  if (!m) throw new SealgateError("SIGNATURE_MALFORMED", "PDF is not signed");
  const [a, b, c] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (b + c !== pdf.length || pdf[a] !== 0x3c || pdf[b - 1] !== 0x3e) {
    throw new SealgateError(
      "SIGNATURE_INVALID",
      "PDF signature does not cover the whole file (bytes were added or removed)",
    );
  }
  const hex = pdf.subarray(a + 1, b - 1).toString("latin1");
  // Node's hex decoder ignores case and stops at the first other character, so without this a
  // changed byte in /Contents could decode to the same seal: it must be lowercase hex, as written.
  if (!/^(?:[0-9a-f]{2})+$/.test(hex))
    throw new SealgateError(
      "SIGNATURE_MALFORMED",
      "PDF /Contents is not the lowercase hex string sealgate writes",
    );
  const cms = cmsFromContents(Buffer.from(hex, "hex"));
  const time = /\/M \(D:(\d{4})(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)Z\)/.exec(pdf.subarray(b).toString("latin1"));
  const at = time
    ? new Date(`${time[1]}-${time[2]}-${time[3]}T${time[4]}:${time[5]}:${time[6]}Z`)
    : undefined;
  return verifyCmsDetached(cms, Buffer.concat([pdf.subarray(0, a), pdf.subarray(b)]), trust, "sealing", at);
}
