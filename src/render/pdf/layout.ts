import { type PDFDocument, PDFHexString, type PDFImage } from "pdf-lib";
import { axisTicks, formatValue, tickLabel } from "./axis.js";
import { type FontSet, runWidthAt } from "./fonts.js";
import { num, PageInk, type Rgb, rgb } from "./page-ink.js";
import { wrap } from "./wrap.js";

/*
 * A small flowing layout on pdf-lib: headings, wrapped paragraphs, key/value blocks, tables
 * with wrapped cells, scaled images, bar charts, and a footer on every page. Nothing runs off
 * the page: a token wider than the column (a hex digest) is broken by character. A heading (or
 * a caption) is kept on the page of what follows it, and a table row moves whole to the next
 * page; only a row taller than a page is continued on the next.
 */

const A4: [number, number] = [595.28, 841.89];
const MARGIN = 50;
/** The content area: blocks are drawn between these (the footer sits below the bottom). */
export const PAGE_TOP = A4[1] - MARGIN;
export const PAGE_BOTTOM = MARGIN + 20;
const INK = rgb(0.1, 0.1, 0.12);
const MUTED = rgb(0.4, 0.4, 0.45);
const RULE = rgb(0.8, 0.8, 0.83);
const SHADE = rgb(0.94, 0.95, 0.97);
const AXIS = rgb(0.55, 0.55, 0.6);
const SERIES = [rgb(0.12, 0.47, 0.71), rgb(1, 0.5, 0.05), rgb(0.17, 0.63, 0.17)];
/** Height of a chart panel's plot area, in points. */
const PANEL_PLOT = 90;

/** What a table cell with nothing in it says. */
export const NOT_RECORDED = "not recorded";

export interface TextStyle {
  size?: number;
  bold?: boolean;
  muted?: boolean;
}

/** One drawn block, as the layout placed it: the model tests check pagination against. */
export interface LayoutBlock {
  kind: "heading" | "line" | "row" | "image" | "chart";
  /** Page index, from 0. */
  page: number;
  top: number;
  bottom: number;
  /** What it writes: a line, a row's cells, a chart's labels. */
  text: string[];
  /** A row: which part (0, or more only for a row taller than a page) and the whole row's height. */
  part?: number;
  height?: number;
  /** A table's header row (kept with the first row, repeated on each page). */
  header?: boolean;
}

/** Something kept with the block after it: drawn only once that block's room is known. */
interface Kept {
  height: number;
  draw: () => void;
}

export class Layout {
  readonly pages: PageInk[] = [];
  readonly blocks: LayoutBlock[] = [];
  private page!: PageInk;
  private y = 0;
  private kept: Kept[] = [];
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
    this.y = PAGE_TOP;
  }

  /** Make room for `h` points, starting a new page if needed. */
  private ensure(h: number) {
    if (this.y - h < PAGE_BOTTOM && this.y < PAGE_TOP) this.newPage();
  }

  /**
   * Room for the next block's first `h` points together with everything kept with it (on a
   * fresh page when they do not fit here), then the kept blocks are drawn.
   */
  private place(h: number) {
    const kept = this.kept;
    this.kept = [];
    this.ensure(kept.reduce((sum, k) => sum + k.height, 0) + h);
    for (const k of kept) k.draw();
  }

  private keep(height: number, draw: () => void) {
    this.kept.push({ height, draw });
  }

  private log(block: Omit<LayoutBlock, "page">) {
    this.blocks.push({ ...block, page: this.pages.length - 1 });
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

  /** Lines one under the other, each moving to a new page when it does not fit. */
  private lines(lines: readonly string[], style: TextStyle, kind: "heading" | "line") {
    const size = style.size ?? 10;
    for (const line of lines) {
      this.ensure(size * 1.4);
      const top = this.y;
      this.y -= size * 1.4;
      this.drawLine(line, MARGIN, this.y, style);
      this.log({ kind, top, bottom: this.y, text: [line] });
    }
  }

  /** A wrapped paragraph; `keepWithNext` (a caption) keeps it on the page of the block after it. */
  paragraph(text: string, style: TextStyle & { keepWithNext?: boolean } = {}) {
    const size = style.size ?? 10;
    const lines = this.wrap(text, this.width, style);
    const draw = () => {
      this.lines(lines, style, "line");
      this.y -= size * 0.4;
    };
    if (style.keepWithNext) return this.keep(lines.length * size * 1.4 + size * 0.4, draw);
    this.place(size * 1.4);
    draw();
  }

  /** A section heading, drawn on the page of the block that follows it. */
  heading(text: string, level: 1 | 2 = 2) {
    const style = { size: level === 1 ? 18 : 13, bold: true };
    const lines = this.wrap(text, this.width, style);
    const gap = level === 1 ? 4 : 12;
    this.keep(gap + lines.length * style.size * 1.4 + style.size * 0.4 + 4, () => {
      this.y -= Math.min(gap, PAGE_TOP - this.y);
      this.lines(lines, style, "heading");
      this.y -= style.size * 0.4;
      this.rule(this.y + 2, 0.5);
      this.y -= 4;
    });
  }

  /** A bold line that leads the block after it (a history entry, a group of comments). */
  subheading(text: string) {
    const style = { bold: true };
    const lines = this.wrap(text, this.width, style);
    this.keep(lines.length * 14 + 4, () => {
      this.lines(lines, style, "heading");
      this.y -= 4;
    });
  }

  /** Draw whatever is still kept (a heading with nothing after it). */
  private flush() {
    this.place(0);
  }

  keyValues(rows: [string, string][], opts: { shade?: boolean } = {}) {
    this.table(rows, [0.3, 0.7], { header: false, ...opts });
  }

  /**
   * A table whose cells wrap. A row moves whole to the next page, where the header repeats;
   * the header stays with the first row. An empty cell says "not recorded". `together` keeps
   * a short table on one page.
   */
  table(
    rows: string[][],
    fractions: number[],
    opts: { header?: boolean; size?: number; shade?: boolean; together?: boolean } = {},
  ) {
    const size = opts.size ?? 9;
    const widths = fractions.map((f) => f * this.width);
    const header = opts.header === false ? undefined : rows[0];
    const bold = (i: number, isHeader: boolean) => isHeader || (!header && i === 0);
    const cellsOf = (row: string[], isHeader: boolean) =>
      row.map((c, i) =>
        this.wrap(c.trim() ? c : NOT_RECORDED, widths[i]! - 6, { size, bold: bold(i, isHeader) }),
      );
    const lineHeight = size * 1.35;
    const heightOf = (cells: readonly (readonly string[])[]) =>
      Math.max(...cells.map((c) => c.length)) * lineHeight + 4;
    const style = { size, lineHeight, widths, shade: opts.shade };
    const head = header && cellsOf(header, true);
    let headOn = -1;
    const drawHead = () => {
      this.row(head!, { ...style, bold: (i) => bold(i, true), header: true });
      headOn = this.pages.length;
    };
    if (head) this.keep(heightOf(head), drawHead);
    const room = PAGE_TOP - PAGE_BOTTOM - (head ? heightOf(head) : 0);
    const body = (header ? rows.slice(1) : rows).map((row) => cellsOf(row, false));
    // A table kept together (an approval) starts on a new page unless it fits whole on this one.
    const total = body.reduce((sum, cells) => sum + heightOf(cells), 0);
    if (opts.together && body.length) this.place(Math.min(total, room));
    for (const cells of body) {
      this.place(Math.min(heightOf(cells), room));
      if (head && headOn !== this.pages.length) drawHead();
      this.row(cells, { ...style, bold: (i) => bold(i, false) }, head && drawHead);
    }
    // A header with no rows under it stays kept, with whatever comes next.
    this.y -= 6;
  }

  /**
   * One table row at the current position. It has been given room; only a row taller than a
   * page runs out of it, and continues on the next page (after `onNewPage`, the header).
   */
  private row(
    cells: readonly (readonly string[])[],
    style: {
      size: number;
      lineHeight: number;
      widths: number[];
      shade?: boolean;
      bold: (i: number) => boolean;
      header?: boolean;
    },
    onNewPage?: () => void,
  ) {
    const n = Math.max(...cells.map((c) => c.length));
    const height = n * style.lineHeight + 4;
    for (let from = 0, part = 0; from < n; part++) {
      const fit = Math.max(1, Math.floor((this.y - 4 - PAGE_BOTTOM) / style.lineHeight + 1e-6));
      const to = Math.min(n, from + fit);
      const h = (to - from) * style.lineHeight + 4;
      if (style.shade) this.rectangle(MARGIN, this.y - h, this.width, h, SHADE);
      let x = MARGIN;
      cells.forEach((lines, i) => {
        lines.slice(from, to).forEach((l, j) =>
          this.drawLine(l, x + 3, this.y - (j + 1) * style.lineHeight, {
            size: style.size,
            bold: style.bold(i),
          }),
        );
        x += style.widths[i]!;
      });
      this.log({
        kind: "row",
        top: this.y,
        bottom: this.y - h,
        text: cells.map((c) => c.slice(from, to).join(" ")),
        part,
        height,
        header: style.header,
      });
      this.y -= h;
      this.rule(this.y + 1, 0.3);
      from = to;
      if (from < n) {
        this.newPage();
        onNewPage?.();
      }
    }
  }

  /** An image scaled to fit the column width and `maxHeight`, never cropped. */
  image(img: PDFImage, maxHeight = 360) {
    const scale = Math.min(1, this.width / img.width, maxHeight / img.height);
    const w = img.width * scale;
    const h = img.height * scale;
    this.place(h + 10);
    const top = this.y;
    this.y -= h;
    this.page.ops.push(
      `q ${num(w)} 0 0 ${num(h)} ${num(MARGIN)} ${num(this.y)} cm ${this.page.imageName(img)} Do Q`,
    );
    this.log({ kind: "image", top, bottom: this.y, text: [] });
    this.y -= 10;
  }

  /**
   * Bars per label, one colour per series, each label on its own axis (metrics differ in scale
   * by orders of magnitude): ticks and gridlines, every bar's value written on it, and a
   * missing value written as such instead of a bar of zero.
   */
  barChart(labels: string[], series: { name: string; values: (number | undefined)[] }[]) {
    this.keep(16, () => this.legend(series.map((s) => s.name)));
    const perRow = Math.min(3, Math.max(1, labels.length));
    for (let i = 0; i < labels.length; i += perRow) {
      const panels = labels.slice(i, i + perRow).map((label, j) => ({
        label,
        values: series.map((s) => s.values[i + j]),
      }));
      const w = this.width / perRow;
      const captions = panels.map((p) => this.wrap(p.label, w - 46, { size: 8 }));
      const h = PANEL_PLOT + 32 + Math.max(...captions.map((c) => c.length)) * 10;
      this.place(h);
      const top = this.y;
      const text = panels.flatMap((p, j) => this.panel(MARGIN + j * w, w, p.values, captions[j]!));
      this.y -= h;
      this.log({ kind: "chart", top, bottom: this.y, text });
    }
    this.y -= 6;
  }

  private legend(names: string[]) {
    let x = MARGIN;
    const top = this.y;
    this.y -= 12;
    names.forEach((name, j) => {
      this.rectangle(x, this.y, 8, 8, SERIES[j % SERIES.length]!);
      this.drawLine(name, x + 11, this.y + 1, { size: 8 });
      x += 20 + this.fonts.width(name, 8);
    });
    this.log({ kind: "line", top, bottom: this.y - 4, text: names });
    this.y -= 4;
  }

  /** One label's panel at x: axis, gridlines, bars and values, caption under. Returns what it wrote. */
  private panel(x: number, w: number, values: (number | undefined)[], caption: readonly string[]): string[] {
    const ticks = axisTicks(values.filter((v) => v !== undefined));
    const [lo, hi] = [ticks[0]!, ticks.at(-1)!];
    const plotTop = this.y - 12;
    const yOf = (v: number) => plotTop - PANEL_PLOT + ((v - lo) / (hi - lo)) * PANEL_PLOT;
    const axisX = x + 40;
    const written = ticks.map((t) => {
      const s = tickLabel(t);
      this.hline(axisX, x + w - 6, yOf(t), t === 0 ? AXIS : RULE, t === 0 ? 0.6 : 0.3);
      this.fitted(s, axisX - 3, yOf(t) - 2.5, 34, 6.5, "right");
      return s;
    });
    this.page.ops.push(
      `${AXIS.stroke} 0.6 w ${num(axisX)} ${num(yOf(lo))} m ${num(axisX)} ${num(yOf(hi))} l S`,
    );
    const slot = (x + w - 6 - axisX) / values.length;
    const bar = Math.min(22, slot * 0.6);
    values.forEach((v, j) => {
      const centre = axisX + slot * (j + 0.5);
      const label = v === undefined ? NOT_RECORDED : formatValue(v);
      if (v !== undefined) {
        const [y0, y1] = [yOf(0), yOf(v)];
        this.rectangle(
          centre - bar / 2,
          Math.min(y0, y1),
          bar,
          Math.abs(y1 - y0),
          SERIES[j % SERIES.length]!,
        );
      }
      const at = v === undefined ? yOf(0) + 2 : v < 0 ? yOf(v) - 8 : yOf(v) + 2;
      this.fitted(label, centre, at, slot - 2, 7, "centre");
      written.push(label);
    });
    caption.forEach((line, k) =>
      this.fitted(line, x + w / 2 + 17, yOf(lo) - 20 - k * 10, w - 46, 8, "centre", true),
    );
    return [...written, ...caption];
  }

  /** One line aligned at x, shrunk (down to 4.5 points) to fit `room` points. */
  private fitted(
    text: string,
    x: number,
    y: number,
    room: number,
    size: number,
    align: "right" | "centre",
    muted = false,
  ) {
    const s = Math.max(4.5, Math.min(size, (size * room) / Math.max(1e-9, this.fonts.width(text, size))));
    const w = this.fonts.width(text, s);
    this.drawLine(text, align === "right" ? x - w : x - w / 2, y, { size: s, muted });
  }

  private hline(x0: number, x1: number, y: number, color: Rgb, thickness: number) {
    this.page.ops.push(`${color.stroke} ${num(thickness)} w ${num(x0)} ${num(y)} m ${num(x1)} ${num(y)} l S`);
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
    this.flush();
    for (const p of this.pages) p.finish(this.doc);
  }
}
