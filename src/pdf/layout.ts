import { deflateSync } from "node:zlib";
import { type PDFDocument, type PDFFont, PDFHexString, type PDFImage, type PDFPage } from "pdf-lib";
import { type FontSet, runWidthAt } from "./fonts.js";
import { wrap } from "./wrap.js";

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
interface Rgb {
  fill: string;
  stroke: string;
}
const rgb = (r: number, g: number, b: number): Rgb => {
  const c = `${num(r)} ${num(g)} ${num(b)}`;
  return { fill: `${c} rg`, stroke: `${c} RG` };
};

/**
 * One page's drawing, written as content-stream operators directly (pdf-lib builds an object
 * per operator and operand, which cost more than the layout itself). Each font and image gets
 * one resource name per page.
 */
class PageInk {
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

/*
 * A small flowing layout on pdf-lib: headings, wrapped paragraphs, key/value blocks, tables
 * with wrapped cells that break across pages, scaled images, and a footer on every page.
 * Nothing runs off the page: a token wider than the column (a hex digest) is broken by
 * character.
 */

const A4: [number, number] = [595.28, 841.89];
const MARGIN = 50;
const INK = rgb(0.1, 0.1, 0.12);
const MUTED = rgb(0.4, 0.4, 0.45);
const RULE = rgb(0.8, 0.8, 0.83);

export interface TextStyle {
  size?: number;
  bold?: boolean;
  muted?: boolean;
}

export class Layout {
  readonly pages: PageInk[] = [];
  private page!: PageInk;
  private y = 0;
  readonly width = A4[0] - 2 * MARGIN;

  constructor(
    readonly doc: PDFDocument,
    readonly fonts: FontSet,
  ) {
    this.newPage();
  }

  private newPage() {
    this.page = new PageInk(this.doc.addPage(A4));
    this.pages.push(this.page);
    this.y = A4[1] - MARGIN;
  }

  /** Make room for `h` points, starting a new page if needed. */
  private ensure(h: number) {
    if (this.y - h < MARGIN + 20) this.newPage();
  }

  /** Lines of at most `width` points. */
  wrap(text: string, width: number, style: TextStyle = {}): readonly string[] {
    return wrap(this.fonts, text, width, style.size ?? 10, style.bold);
  }

  /** Draw one line of mixed-script text at (x, y). */
  drawLine(text: string, x: number, y: number, style: TextStyle = {}, page = this.page) {
    const size = style.size ?? 10;
    let cx = x;
    const color = style.muted ? MUTED : INK;
    for (const run of this.fonts.runs(text, style.bold)) {
      const font = `${page.fontName(this.fonts.pdfFont(run.name))} ${num(size)} Tf ${color.fill}`;
      if (run.shaped) {
        // HarfBuzz's glyphs one by one at their positions, inside a span whose ActualText is the
        // logical text, so copy and text extraction give the characters back.
        const glyphs = run.shaped.map(
          (g) =>
            `1 0 0 1 ${num(cx + g.x * size)} ${num(y + g.y * size)} Tm <${g.gid.toString(16).padStart(4, "0")}> Tj`,
        );
        page.ops.push(
          `/Span <</ActualText ${PDFHexString.fromText(run.text).toString()}>> BDC BT ${font} ${glyphs.join(" ")} ET EMC`,
        );
      } else {
        page.ops.push(`BT ${font} ${num(cx)} ${num(y)} Td <${run.hex!}> Tj ET`);
      }
      cx += runWidthAt(run, size);
    }
  }

  paragraph(text: string, style: TextStyle = {}) {
    const size = style.size ?? 10;
    for (const line of this.wrap(text, this.width, style)) {
      this.ensure(size * 1.4);
      this.y -= size * 1.4;
      this.drawLine(line, MARGIN, this.y, style);
    }
    this.y -= size * 0.4;
  }

  heading(text: string, level: 1 | 2 = 2) {
    const size = level === 1 ? 18 : 13;
    this.ensure(size * 3);
    this.y -= level === 1 ? 4 : 12;
    this.paragraph(text, { size, bold: true });
    this.rule(this.y + 2, 0.5);
    this.y -= 4;
  }

  keyValues(rows: [string, string][]) {
    this.table(
      rows.map(([k, v]) => [k, v]),
      [0.3, 0.7],
      { header: false },
    );
  }

  /** A table whose cells wrap; rows never split, the header repeats on each new page. */
  table(rows: string[][], fractions: number[], opts: { header?: boolean; size?: number } = {}) {
    const size = opts.size ?? 9;
    const widths = fractions.map((f) => f * this.width);
    const header = opts.header === false ? undefined : rows[0];
    const body = header ? rows.slice(1) : rows;
    const drawRow = (row: string[], bold: boolean) => {
      const cells = row.map((c, i) =>
        this.wrap(c, widths[i]! - 6, { size, bold: bold || (!header && i === 0) }),
      );
      const h = Math.max(...cells.map((c) => c.length)) * size * 1.35 + 4;
      if (this.y - h < MARGIN + 20) {
        this.newPage();
        if (header && !bold) drawRow(header, true);
      }
      let x = MARGIN;
      cells.forEach((lines, i) => {
        lines.forEach((l, j) =>
          this.drawLine(l, x + 3, this.y - (j + 1) * size * 1.35, {
            size,
            bold: bold || (!header && i === 0),
          }),
        );
        x += widths[i]!;
      });
      this.y -= h;
      this.rule(this.y + 1, 0.3);
    };
    if (header) drawRow(header, true);
    for (const row of body) drawRow(row, false);
    this.y -= 6;
  }

  /** An image scaled to fit the column width and `maxHeight`, never cropped. */
  image(img: PDFImage, maxHeight = 360) {
    const scale = Math.min(1, this.width / img.width, maxHeight / img.height);
    const w = img.width * scale;
    const h = img.height * scale;
    this.ensure(h + 10);
    this.y -= h;
    this.page.ops.push(
      `q ${num(w)} 0 0 ${num(h)} ${num(MARGIN)} ${num(this.y)} cm ${this.page.imageName(img)} Do Q`,
    );
    this.y -= 10;
  }

  /** A bar chart with vector primitives: groups of bars per label, one colour per series. */
  barChart(labels: string[], series: { name: string; values: number[] }[], height = 160) {
    const colors = [rgb(0.12, 0.47, 0.71), rgb(1, 0.5, 0.05), rgb(0.17, 0.63, 0.17)];
    this.ensure(height + 40);
    const top = this.y - 10;
    const bottom = top - height;
    const max = Math.max(1e-9, ...series.flatMap((s) => s.values.map((v) => Math.abs(v))));
    const group = this.width / Math.max(1, labels.length);
    const bar = Math.min(24, (group * 0.7) / series.length);
    labels.forEach((label, i) => {
      series.forEach((s, j) => {
        const v = s.values[i] ?? 0;
        const h = (Math.abs(v) / max) * (height - 20);
        const x = MARGIN + i * group + (group - bar * series.length) / 2 + j * bar;
        this.rectangle(x, bottom, bar - 2, h, colors[j % colors.length]!);
      });
      const lw = this.fonts.width(label, 8);
      this.drawLine(label, MARGIN + i * group + Math.max(0, (group - lw) / 2), bottom - 10, {
        size: 8,
        muted: true,
      });
    });
    let lx = MARGIN;
    series.forEach((s, j) => {
      this.rectangle(lx, top + 2, 8, 8, colors[j % colors.length]!);
      this.drawLine(s.name, lx + 11, top + 3, { size: 8 });
      lx += 20 + this.fonts.width(s.name, 8);
    });
    this.y = bottom - 20;
  }

  /** A horizontal rule across the column. */
  private rule(y: number, thickness: number) {
    this.page.ops.push(
      `${RULE.stroke} ${num(thickness)} w ${num(MARGIN)} ${num(y)} m ${num(MARGIN + this.width)} ${num(y)} l S`,
    );
  }

  private rectangle(x: number, y: number, width: number, height: number, color: Rgb) {
    this.page.ops.push(`${color.fill} ${num(x)} ${num(y)} ${num(width)} ${num(height)} re f`);
  }

  /** Footer on every page: a fixed left text and "page x of y". */
  footer(left: string) {
    const total = this.pages.length;
    this.pages.forEach((p, i) => {
      const right = `page ${i + 1} of ${total}`;
      this.drawLine(left, MARGIN, MARGIN - 22, { size: 7, muted: true }, p);
      this.drawLine(
        right,
        MARGIN + this.width - this.fonts.width(right, 7),
        MARGIN - 22,
        { size: 7, muted: true },
        p,
      );
    });
  }

  /** Write every page's content stream; nothing can be drawn after. */
  finish() {
    for (const p of this.pages) p.finish(this.doc);
  }
}
