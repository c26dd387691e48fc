import { deflateSync } from "node:zlib";
import type { PDFDocument, PDFFont, PDFImage, PDFPage } from "pdf-lib";

/*
 * The lowest layer of the record PDF: numbers, colours and a page's content-stream operators.
 * The layout (layout.ts) decides where things go; this only writes them down.
 */

/**
 * A number in a content stream: three decimals (a thousandth of a point) and no trailing zeros.
 * Positions are computed, never typed in, so this is their only rounding.
 */
export const num = (n: number) => {
  // Shortest decimal of the rounded value: never an exponent at this scale, and -0 prints "0".
  // (toFixed and a regex cost a sixth of the layout.)
  const r = Math.round(n * 1000) / 1000;
  return String(r === 0 ? 0 : r);
};

/** A colour as its fill and stroke operators, written once. */
export interface Rgb {
  fill: string;
  stroke: string;
}
export const rgb = (r: number, g: number, b: number): Rgb => {
  const c = `${num(r)} ${num(g)} ${num(b)}`;
  return { fill: `${c} rg`, stroke: `${c} RG` };
};

/**
 * One page's drawing, written as content-stream operators directly (pdf-lib builds an object
 * per operator and operand, which cost more than the layout itself). Each font and image gets
 * one resource name per page.
 */
export class PageInk {
  readonly ops: string[] = [];
  private readonly names = new Map<PDFFont | PDFImage, string>();

  constructor(readonly page: PDFPage) {}

  fontName(font: PDFFont): string {
    let name = this.names.get(font);
    if (!name)
      this.names.set(font, (name = this.page.node.newFontDictionary(font.name, font.ref).toString()));
    return name;
  }

  imageName(image: PDFImage): string {
    let name = this.names.get(image);
    if (!name) this.names.set(image, (name = this.page.node.newXObject("Image", image.ref).toString()));
    return name;
  }

  /**
   * The page's one content stream, deflated by zlib at level 1: on page text, the default level
   * took five times as long for 1.2 KB less per record PDF (of 200 KB), and an eighth of a render.
   */
  finish(doc: PDFDocument) {
    const content = deflateSync(Buffer.from(this.ops.join("\n"), "latin1"), { level: 1 });
    this.page.node.addContentStream(
      doc.context.register(doc.context.stream(content, { Filter: "FlateDecode" })),
    );
  }
}
