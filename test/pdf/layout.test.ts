import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import fontkit from "@pdf-lib/fontkit";
import fc from "fast-check";
import { PDFDocument } from "pdf-lib";
import { describe, expect, it } from "vitest";
import { charactersByFont, FontSet } from "../../src/pdf/fonts.js";
import { Layout, num, type TextStyle } from "../../src/pdf/layout.js";

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
