import {
  beginText,
  degrees,
  drawLinesOfText,
  endText,
  PDFHexString,
  PDFName,
  type PDFDocument,
  type PDFImage,
  PDFOperator,
  type PDFPage,
  type RGB,
  rgb,
  setFillingColor,
  setFontAndSize,
  setTextMatrix,
  showText,
} from "pdf-lib";
import { type FontSet, type Run, runWidthAt } from "./fonts.js";
import { wrap } from "./wrap.js";

/**
 * Draw HarfBuzz-shaped glyphs one by one at their positions, inside a marked-content span whose
 * ActualText is the logical text, so copy and text extraction give the characters back.
 */
function drawShaped(page: PDFPage, run: Run, x: number, y: number, size: number, color: RGB) {
  const p = page as unknown as { setFont(f: unknown): void; fontKey: string };
  p.setFont(run.font);
  const span = page.doc.context.obj({ ActualText: PDFHexString.fromText(run.text) });
  page.pushOperators(
    PDFOperator.of("BDC" as never, [PDFName.of("Span"), span as never]),
    beginText(),
    setFillingColor(color),
    setFontAndSize(p.fontKey, size),
    ...run.shaped!.flatMap((g) => [
      setTextMatrix(1, 0, 0, 1, x + g.x * size, y + g.y * size),
      showText(PDFHexString.of(g.gid.toString(16).padStart(4, "0"))),
    ]),
    endText(),
    PDFOperator.of("EMC" as never),
  );
}

/** Draw a run as pdf-lib's drawText does, with glyphs encoded once per subset and string. */
function drawEncoded(
  page: PDFPage,
  run: Run,
  hex: PDFHexString,
  x: number,
  y: number,
  size: number,
  color: RGB,
) {
  const p = page as unknown as { setFont(f: unknown): void; fontKey: string; lineHeight: number };
  p.setFont(run.font);
  const straight = degrees(0);
  page.pushOperators(
    ...drawLinesOfText([hex], {
      color,
      font: p.fontKey,
      size,
      rotate: straight,
      xSkew: straight,
      ySkew: straight,
      x,
      y,
      lineHeight: p.lineHeight,
    }),
  );
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
  readonly pages: PDFPage[] = [];
  private page!: PDFPage;
  private y = 0;
  readonly width = A4[0] - 2 * MARGIN;

  constructor(
    readonly doc: PDFDocument,
    readonly fonts: FontSet,
  ) {
    this.newPage();
  }

  private newPage() {
    this.page = this.doc.addPage(A4);
    this.pages.push(this.page);
    this.y = A4[1] - MARGIN;
  }

  /** Make room for `h` points, starting a new page if needed. */
  private ensure(h: number) {
    if (this.y - h < MARGIN + 20) this.newPage();
  }

  /** Lines of at most `width` points. */
  wrap(text: string, width: number, style: TextStyle = {}): string[] {
    return wrap(this.fonts, text, width, style.size ?? 10, style.bold);
  }

  /** Draw one line of mixed-script text at (x, y). */
  drawLine(text: string, x: number, y: number, style: TextStyle = {}, page = this.page) {
    const size = style.size ?? 10;
    let cx = x;
    const color = style.muted ? MUTED : INK;
    for (const run of this.fonts.runs(text, style.bold)) {
      if (run.shaped) {
        drawShaped(page, run, cx, y, size, color);
        cx += run.advance! * size;
      } else {
        drawEncoded(page, run, this.fonts.encode(run), cx, y, size, color);
        cx += runWidthAt(run, size);
      }
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
    this.page.drawLine({
      start: { x: MARGIN, y: this.y + 2 },
      end: { x: MARGIN + this.width, y: this.y + 2 },
      thickness: 0.5,
      color: RULE,
    });
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
      this.page.drawLine({
        start: { x: MARGIN, y: this.y + 1 },
        end: { x: MARGIN + this.width, y: this.y + 1 },
        thickness: 0.3,
        color: RULE,
      });
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
    this.page.drawImage(img, { x: MARGIN, y: this.y, width: w, height: h });
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
        this.page.drawRectangle({
          x,
          y: bottom,
          width: bar - 2,
          height: h,
          color: colors[j % colors.length],
        });
      });
      const lw = this.fonts.width(label, 8);
      this.drawLine(label, MARGIN + i * group + Math.max(0, (group - lw) / 2), bottom - 10, {
        size: 8,
        muted: true,
      });
    });
    let lx = MARGIN;
    series.forEach((s, j) => {
      this.page.drawRectangle({ x: lx, y: top + 2, width: 8, height: 8, color: colors[j % colors.length] });
      this.drawLine(s.name, lx + 11, top + 3, { size: 8 });
      lx += 20 + this.fonts.width(s.name, 8);
    });
    this.y = bottom - 20;
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
}
