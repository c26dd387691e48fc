import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import fontkit from "@pdf-lib/fontkit";
import fc from "fast-check";
import { PDFDocument } from "pdf-lib";
import { describe, expect, it } from "vitest";
import { axisTicks, formatValue } from "../../../src/render/pdf/axis.js";
import { charactersByFont, FontSet } from "../../../src/render/pdf/fonts.js";
import {
  Layout,
  type LayoutBlock,
  NOT_RECORDED,
  PAGE_BOTTOM,
  PAGE_TOP,
  type TextStyle,
} from "../../../src/render/pdf/layout.js";
import { num } from "../../../src/render/pdf/page-ink.js";
import { embedPng } from "../../../src/render/pdf/png.js";
import { makePng } from "../../support/png.js";

const LATIN = ["Ada", "Lovelace,", "Zoë", "Ångström", "disparate", "0.91", "für", "—", "•", "(ok)", "x"];
const WORDS = [
  "Ada",
  "Lovelace,",
  "Zoë",
  "Ångström",
  "李雷",
  "ليلى",
  "حداد",
  "disparate",
  "impact",
  "0.91",
  "Kommentar",
  "für",
  "—",
  "•",
  "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
  "<ada.lovelace@example.org>",
];

const ASCII = String.fromCharCode(...Array.from({ length: 95 }, (_, i) => 32 + i));

async function layoutFor(texts: string[]) {
  const doc = await PDFDocument.create({ updateMetadata: false });
  return new Layout(doc, await FontSet.embed(doc, texts));
}

/** The line breaks as they were defined before memoisation: re-measure each candidate line. */
function referenceWrap(fonts: FontSet, text: string, width: number, style: TextStyle = {}) {
  const size = style.size ?? 10;
  const lines: string[] = [];
  for (const para of text.split("\n")) {
    let line = "";
    for (const word of para.split(/(?<=\s)/)) {
      const candidate = line + word;
      if (fonts.width(candidate.trimEnd(), size, style.bold) <= width) {
        line = candidate;
        continue;
      }
      if (line) lines.push(line.trimEnd());
      line = "";
      for (const ch of word) {
        if (fonts.width(line + ch, size, style.bold) > width && line) {
          lines.push(line);
          line = "";
        }
        line += ch;
      }
    }
    lines.push(line.trimEnd());
  }
  return lines;
}

describe("numbers in a content stream", () => {
  it("are plain decimals within half a thousandth of a point of the value", () => {
    fc.assert(
      fc.property(fc.double({ min: -2e4, max: 2e4, noNaN: true }), (n) => {
        const s = num(n);
        expect(s).toMatch(/^-?(0|[1-9]\d*)(\.\d{0,2}[1-9])?$/);
        expect(Math.abs(Number(s) - n)).toBeLessThanOrEqual(0.0005 + 1e-9);
      }),
      { numRuns: 2000 },
    );
    expect([num(-0), num(-0.0001), num(12), num(0.1 + 0.2), num(595.28)]).toEqual([
      "0",
      "0",
      "12",
      "0.3",
      "595.28",
    ]);
  });
});

describe("wrapping text into lines", () => {
  it.each([
    ["Latin text (widths summed)", LATIN],
    ["mixed scripts (lines re-measured)", WORDS],
  ])(
    "breaks %s exactly where re-measuring every candidate line breaks, and no line is wider than the column",
    async (_, words) => {
      const l = await layoutFor([...LATIN, ...WORDS]);
      const text = fc
        .array(fc.tuple(fc.constantFrom(...words), fc.constantFrom(" ", " ", "  ", "\n")), { maxLength: 40 })
        .map((ws) => ws.map(([w, sep]) => w + sep).join(""));
      await fc.assert(
        fc.asyncProperty(
          text,
          fc.integer({ min: 20, max: 500 }),
          fc.constantFrom(7, 8.5, 10, 13),
          fc.boolean(),
          async (t, width, size, bold) => {
            const style = { size, bold };
            const lines = l.wrap(t, width, style);
            expect(lines).toEqual(referenceWrap(l.fonts, t, width, style));
            for (const line of lines) {
              // Only a single character may be wider than the column.
              if ([...line].length > 1) expect(l.fonts.width(line, size, bold)).toBeLessThanOrEqual(width);
            }
            expect(lines.join("").replace(/\s/g, "")).toBe(t.replace(/\s/g, ""));
          },
        ),
        { numRuns: 300 },
      );
    },
  );
});

describe("the characters each font must carry", () => {
  it("loads the Arabic, math and CJK fonts only for text that needs them", () => {
    expect([...charactersByFont(["Zoë Ångström <zoe@example.org> — 0.91"]).keys()].sort()).toEqual([
      "NotoSans",
      "NotoSans-Bold",
    ]);
    const mixed = charactersByFont(["李雷, ليلى حداد"]);
    expect([...mixed.keys()].sort()).toEqual([
      "NotoSans",
      "NotoSans-Bold",
      "NotoSansArabic",
      "NotoSansArabic-Bold",
      "NotoSansSC",
    ]);
    expect(mixed.get("NotoSansSC")).toContain("李");
    expect(mixed.get("NotoSans")?.has("李")).toBe(false);
    // The CJK font has arrows too, but the 1 MB math font is asked first.
    const symbols = charactersByFont(["a → b ≥ 0.85"]);
    expect([...symbols.keys()].sort()).toEqual(["NotoSans", "NotoSans-Bold", "NotoSansMath"]);
    expect(symbols.get("NotoSansMath")).toContain("→");
    expect(symbols.get("NotoSansMath")).toContain("≥");
    // Punctuation can join an Arabic run, so the Arabic font carries it too.
    expect(mixed.get("NotoSansArabic")).toContain(",");
  });

  it("gives any character to the first font whose full file has its glyph, as fontkit reads the files", () => {
    // The fonts keep only the code points they cover, not the files: the choice must not change.
    const require = createRequire(import.meta.url);
    const file = (pkg: string, f: string) =>
      fontkit.create(readFileSync(require.resolve(`@expo-google-fonts/${pkg}/${f}`)));
    const faces = [
      ["NotoSans", file("noto-sans", "400Regular/NotoSans_400Regular.ttf")],
      ["NotoSansArabic", file("noto-sans-arabic", "400Regular/NotoSansArabic_400Regular.ttf")],
      ["NotoSansMath", file("noto-sans-math", "400Regular/NotoSansMath_400Regular.ttf")],
      ["NotoSansSC", file("noto-sans-sc", "400Regular/NotoSansSC_400Regular.ttf")],
    ] as const;
    const expected = (cp: number) => faces.find(([, f]) => f.hasGlyphForCodePoint(cp))?.[0] ?? "NotoSans";
    const letter = fc.oneof(
      fc.integer({ min: 0xa0, max: 0x2fff }),
      fc.integer({ min: 0x4e00, max: 0x9fff }),
      fc.integer({ min: 0xfb50, max: 0xffff }),
      fc.integer({ min: 0x1d400, max: 0x2ffff }),
    );
    fc.assert(
      fc.property(letter, (cp) => {
        const ch = String.fromCodePoint(cp);
        const regular = [...charactersByFont([ch])].filter(([, set]) => set.has(ch)).map(([name]) => name);
        expect(regular).toContain(expected(cp));
      }),
      { numRuns: 3000 },
    );
  });

  it("refuses to draw a character the fonts were not subset for, rather than draw a missing glyph", async () => {
    const l = await layoutFor(["Ada Lovelace"]);
    expect(() => l.drawLine("Lovelace Ada", 50, 50)).not.toThrow();
    expect(() => l.drawLine("Adé", 50, 50)).toThrow(/"é" was not collected for NotoSans/);
    expect(() => l.wrap("李雷", 100)).toThrow(/was not collected for NotoSansSC/);
  });
});

/** Words, some long, joined: text from nothing to several pages' worth. */
const words = (max: number) =>
  fc
    .array(fc.constantFrom(...LATIN, "sha256:0123456789abcdef0123456789abcdef", "a"), { maxLength: max })
    .map((ws) => ws.join(" "));
/** A cell: usually short, sometimes empty, sometimes longer than a page. */
const cell = fc.oneof(
  { weight: 6, arbitrary: words(12) },
  { weight: 1, arbitrary: fc.constant("") },
  { weight: 1, arbitrary: words(1200) },
);

type Step =
  | { kind: "heading" | "subheading"; text: string }
  | { kind: "paragraph"; text: string; caption: boolean }
  | { kind: "table"; rows: string[][]; header: boolean; together: boolean }
  | { kind: "image"; height: number }
  | { kind: "chart"; labels: string[]; values: (number | undefined)[][] };

const step: fc.Arbitrary<Step> = fc.oneof(
  fc.record({ kind: fc.constantFrom("heading" as const, "subheading" as const), text: words(25) }),
  fc.record({ kind: fc.constant("paragraph" as const), text: words(500), caption: fc.boolean() }),
  fc.integer({ min: 2, max: 4 }).chain((cols) =>
    fc.record({
      kind: fc.constant("table" as const),
      rows: fc.array(fc.array(cell, { minLength: cols, maxLength: cols }), { minLength: 1, maxLength: 8 }),
      header: fc.boolean(),
      together: fc.boolean(),
    }),
  ),
  fc.record({ kind: fc.constant("image" as const), height: fc.integer({ min: 20, max: 500 }) }),
  fc.integer({ min: 1, max: 2 }).chain((series) =>
    fc.record({
      kind: fc.constant("chart" as const),
      labels: fc.array(words(4), { minLength: 1, maxLength: 5 }),
      values: fc.array(
        fc.array(fc.option(fc.double({ min: -1e6, max: 1e22, noNaN: true }), { nil: undefined }), {
          minLength: 5,
          maxLength: 5,
        }),
        { minLength: series, maxLength: series },
      ),
    }),
  ),
);

async function laidOut(steps: Step[]): Promise<LayoutBlock[]> {
  const l = await layoutFor([...LATIN, ASCII]);
  for (const s of steps) {
    if (s.kind === "chart") {
      l.barChart(
        s.labels,
        s.values.map((values, i) => ({ name: `series ${i}`, values })),
      );
    } else if (s.kind === "table") {
      const fractions = s.rows[0]!.map(() => 1 / s.rows[0]!.length);
      l.table(s.rows, fractions, { header: s.header, together: s.together });
    } else if (s.kind === "image") {
      l.image(
        await embedPng(
          l.doc,
          makePng(4, s.height, () => [9, 9, 9]),
        ),
      );
    } else if (s.kind === "paragraph") {
      l.paragraph(s.text, { keepWithNext: s.caption });
    } else if (s.kind === "heading") l.heading(s.text);
    else l.subheading(s.text);
  }
  // The document ends with content, as a record does with its evidence table.
  l.paragraph("end");
  l.finish();
  return l.blocks;
}

/** Headings and header rows lead what follows them. */
const leads = (b: LayoutBlock) => b.kind === "heading" || b.header === true;

describe("pagination", () => {
  it("keeps every block inside the page, never leaves a heading or table header last on a page, and moves rows whole", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: 14 }), async (steps) => {
        const blocks = await laidOut(steps);
        const pages = [...new Set(blocks.map((b) => b.page))].map((p) => blocks.filter((b) => b.page === p));
        for (const onPage of pages) {
          expect(leads(onPage.at(-1)!), JSON.stringify(onPage.at(-1))).toBe(false);
          for (const b of onPage) {
            expect(b.top).toBeLessThanOrEqual(PAGE_TOP + 1e-6);
            expect(b.bottom).toBeGreaterThanOrEqual(PAGE_BOTTOM - 1e-6);
          }
        }
        blocks.forEach((b, i) => {
          if (b.kind !== "row" || b.part !== 0) return;
          // No empty cell, in the header or the body.
          for (const c of b.text) expect(c.trim()).not.toBe("");
          if (Math.abs(b.top - b.bottom - b.height!) < 1e-6) return;
          // Split: only a row that did not fit on a fresh page below what leads it.
          expect(b.height!).toBeGreaterThan(b.top - PAGE_BOTTOM);
          expect(blocks.filter((o, j) => j < i && o.page === b.page).every(leads)).toBe(true);
        });
      }),
      { numRuns: 150 },
    );
  });

  it("starts a table kept together on a new page unless it fits whole", async () => {
    const l = await layoutFor([...LATIN, ASCII]);
    l.paragraph(Array.from({ length: 60 }, () => "disparate impact").join("\n"));
    const rows = Array.from({ length: 6 }, (_, i): [string, string] => [`key ${i}`, "x"]);
    l.table(rows, [0.5, 0.5], { header: false, together: true });
    const drawn = l.blocks.filter((b) => b.kind === "row");
    expect(new Set(drawn.map((b) => b.page)).size).toBe(1);
    expect(drawn[0]!.page).toBe(1);
  });
});

describe("the metric chart", () => {
  it("writes every value on its bar (or that it is not recorded) and an axis whose ticks span 0 and every value", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.option(fc.double({ min: -1e21, max: 1e21, noNaN: true }), { nil: undefined }), {
          minLength: 1,
          maxLength: 3,
        }),
        async (values) => {
          const l = await layoutFor([ASCII]);
          l.barChart(
            ["m"],
            values.map((v, i) => ({ name: `s${i}`, values: [v] })),
          );
          const chart = l.blocks.find((b) => b.kind === "chart")!;
          const ticks = axisTicks(values.filter((v) => v !== undefined));
          expect(ticks.length).toBeGreaterThanOrEqual(2);
          expect(ticks.length).toBeLessThanOrEqual(7);
          expect(ticks).toContain(0);
          for (const v of values) {
            expect(chart.text).toContain(v === undefined ? NOT_RECORDED : formatValue(v));
            if (v !== undefined) expect(ticks[0]! <= v && v <= ticks.at(-1)!).toBe(true);
          }
          // Tick labels, then the values, then the caption.
          expect(chart.text.length).toBe(ticks.length + values.length + 1);
        },
      ),
      { numRuns: 200 },
    );
  });

  it("puts auc on an axis from 0 to 1 in quarters", () => {
    expect(axisTicks([0.91, 0.88])).toEqual([0, 0.25, 0.5, 0.75, 1]);
    expect(axisTicks([1e21, 2 ** 53 + 2])).toEqual([0, 2.5e20, 5e20, 7.5e20, 1e21]);
    expect(axisTicks([-0.02, 0.03])).toEqual([-0.02, 0, 0.02, 0.04]);
    expect(axisTicks([5e-324])).toEqual([0, 5e-324]);
    expect(axisTicks([])).toEqual([0, 1]);
  });
});
