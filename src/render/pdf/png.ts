import { createHash } from "node:crypto";
import { inflateSync } from "node:zlib";
import { type PDFContext, type PDFDocument, PDFImage, PngEmbedder, type PDFRef } from "pdf-lib";
import { BoundedCache } from "../../core/util/bounded-cache.js";

/*
 * pdf-lib embeds a PNG by decoding it and deflating the pixels again in pure JavaScript, which
 * costs more than laying out the whole record. A PNG's IDAT stream already is what a PDF image
 * can carry (FlateDecode with the PNG predictors), so 8-bit greyscale or RGB PNGs without
 * interlacing or transparency are embedded as they are. Anything else, or a PNG whose pixel
 * data does not inflate to exactly its size, goes through pdf-lib as before.
 */

const SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
const COLORS: Record<number, { colors: number; space: string }> = {
  0: { colors: 1, space: "DeviceGray" },
  2: { colors: 3, space: "DeviceRGB" },
};

interface Passthrough {
  width: number;
  height: number;
  colors: number;
  space: string;
  data: Buffer;
}

/** The IDAT data of a PNG that can be embedded without re-encoding, or undefined. */
export function pngPassthrough(bytes: Uint8Array): Passthrough | undefined {
  const png = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (png.length < 33 || !png.subarray(0, 8).equals(SIGNATURE) || png.toString("latin1", 12, 16) !== "IHDR")
    return undefined;
  const width = png.readUInt32BE(16);
  const height = png.readUInt32BE(20);
  const [depth, colorType, compression, filter, interlace] = png.subarray(24, 29);
  const color = COLORS[colorType!];
  if (!color || depth !== 8 || compression !== 0 || filter !== 0 || interlace !== 0) return undefined;
  if (width === 0 || height === 0) return undefined;
  const idat: Buffer[] = [];
  for (let at = 8; ;) {
    if (at + 12 > png.length) return undefined;
    const length = png.readUInt32BE(at);
    const type = png.toString("latin1", at + 4, at + 8);
    if (at + 12 + length > png.length) return undefined;
    // A transparency chunk makes the image need a soft mask: leave that to pdf-lib.
    if (type === "tRNS") return undefined;
    if (type === "IDAT") idat.push(png.subarray(at + 8, at + 8 + length));
    if (type === "IEND") break;
    at += 12 + length;
  }
  const data = Buffer.concat(idat);
  const rowBytes = width * color.colors + 1;
  try {
    // Native zlib: checks the stream is whole and the size is what the header promises.
    const pixels = inflateSync(data, { maxOutputLength: rowBytes * height + 1 });
    if (pixels.length !== rowBytes * height) return undefined;
  } catch {
    return undefined;
  }
  return { width, height, colors: color.colors, space: color.space, data };
}

/**
 * pngPassthrough by content: the check inflates every pixel, and record after record shows the
 * same explanation image. A few entries, so a daemon stays small.
 */
const checked = new BoundedCache<string, Passthrough | undefined>(4);
function passthroughOnce(bytes: Uint8Array): Passthrough | undefined {
  return checked.get(createHash("sha256").update(bytes).digest("hex"), () => pngPassthrough(bytes));
}

/** Embed a PNG, without re-encoding it when its pixel data can be used as it is. */
export async function embedPng(doc: PDFDocument, bytes: Uint8Array): Promise<PDFImage> {
  const p = passthroughOnce(bytes);
  if (!p) return doc.embedPng(bytes);
  // PDFImage only takes pdf-lib's own embedders; this one writes the stream it is given.
  const embedder = Object.assign(Object.create(PngEmbedder.prototype) as PngEmbedder, {
    width: p.width,
    height: p.height,
    embedIntoContext: async (context: PDFContext, ref?: PDFRef) => {
      const stream = context.stream(p.data, {
        Type: "XObject",
        Subtype: "Image",
        Width: p.width,
        Height: p.height,
        BitsPerComponent: 8,
        ColorSpace: p.space,
        Filter: "FlateDecode",
        DecodeParms: { Predictor: 15, Colors: p.colors, BitsPerComponent: 8, Columns: p.width },
      });
      if (!ref) return context.register(stream);
      context.assign(ref, stream);
      return ref;
    },
  });
  const image = PDFImage.of(doc.context.nextRef(), doc, embedder);
  await image.embed();
  return image;
}
