import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import fontkit from "@pdf-lib/fontkit";
import type { PDFDocument, PDFFont } from "pdf-lib";
import subsetFont from "subset-font";

/*
 * Embedded fonts that can write any approver's name: Noto Sans (Latin, Greek, Cyrillic),
 * Noto Sans Arabic and Noto Sans SC (CJK), all OFL-licensed and shipped through npm. pdf-lib's
 * standard fonts only encode WinAnsi, so text is split into runs, each drawn with the first
 * font that has every glyph of the run.
 *
 * pdf-lib's own subsetter drops glyphs of these fonts, so documents are laid out twice: the
 * first pass records which characters each font draws, then HarfBuzz (hb-subset) cuts each
 * font down to those characters and the second pass embeds the small fonts whole.
 */

const require = createRequire(import.meta.url);
const fontFile = (pkg: string, file: string) => readFileSync(require.resolve(`${pkg}/${file}`));

const SOURCES = [
  ["NotoSans", "@expo-google-fonts/noto-sans", "400Regular/NotoSans_400Regular.ttf"],
  ["NotoSans-Bold", "@expo-google-fonts/noto-sans", "700Bold/NotoSans_700Bold.ttf"],
  ["NotoSansArabic", "@expo-google-fonts/noto-sans-arabic", "400Regular/NotoSansArabic_400Regular.ttf"],
  ["NotoSansArabic-Bold", "@expo-google-fonts/noto-sans-arabic", "700Bold/NotoSansArabic_700Bold.ttf"],
  ["NotoSansSC", "@expo-google-fonts/noto-sans-sc", "400Regular/NotoSansSC_400Regular.ttf"],
] as const;
type FontName = (typeof SOURCES)[number][0];

// No ligatures: "fi" stays two glyphs, so widths measured per character match what is drawn.
const FEATURES = { liga: false, clig: false, dlig: false };

let cache: Map<FontName, Buffer> | undefined;
const fontBytes = () => (cache ??= new Map(SOURCES.map(([name, pkg, file]) => [name, fontFile(pkg, file)])));

interface Face {
  regular: FontName;
  bold: FontName;
}
// Fallback order: the first face with the glyph draws it.
const FACES: Face[] = [
  { regular: "NotoSans", bold: "NotoSans-Bold" },
  { regular: "NotoSansArabic", bold: "NotoSansArabic-Bold" },
  { regular: "NotoSansSC", bold: "NotoSansSC" },
];

export interface Run {
  text: string;
  font: PDFFont;
}

/** Characters each font drew in a layout pass. */
export type UsedText = Map<FontName, Set<string>>;

interface Coverage {
  hasGlyphForCodePoint(c: number): boolean;
}

export class FontSet {
  readonly used: UsedText = new Map();

  private constructor(
    private readonly fonts: Map<FontName, PDFFont>,
    private readonly coverage: Map<FontName, Coverage>,
  ) {}

  /** Full fonts, for the first (measuring) pass. */
  static async full(doc: PDFDocument): Promise<FontSet> {
    doc.registerFontkit(fontkit);
    const fonts = new Map<FontName, PDFFont>();
    for (const [name, bytes] of fontBytes())
      fonts.set(name, await doc.embedFont(bytes, { subset: false, customName: name }));
    return new FontSet(fonts, FontSet.coverageOf());
  }

  /** Fonts cut down to what a first pass used, for the document that is saved. */
  static async subset(doc: PDFDocument, used: UsedText): Promise<FontSet> {
    doc.registerFontkit(fontkit);
    const fonts = new Map<FontName, PDFFont>();
    for (const [name, bytes] of fontBytes()) {
      const chars = [...(used.get(name) ?? [])].sort().join("");
      if (!chars) continue;
      const small = await subsetFont(bytes, ` ${chars}`, { targetFormat: "truetype" });
      // Fixed names keep the output byte-identical run to run.
      fonts.set(name, await doc.embedFont(small, { subset: false, customName: name, features: FEATURES }));
    }
    return new FontSet(fonts, FontSet.coverageOf());
  }

  private static coverageOf(): Map<FontName, Coverage> {
    return new Map(
      [...fontBytes()].map(([name, bytes]) => [name, fontkit.create(bytes) as unknown as Coverage]),
    );
  }

  private pick(cp: number, bold: boolean): FontName {
    const face =
      FACES.find((f) => this.coverage.get(bold ? f.bold : f.regular)!.hasGlyphForCodePoint(cp)) ?? FACES[0]!;
    return bold ? face.bold : face.regular;
  }

  /** Split text into runs drawable with one font each; unknown characters fall back to the first font. */
  runs(text: string, bold = false): Run[] {
    const runs: { text: string; name: FontName }[] = [];
    for (const ch of text) {
      const cp = ch.codePointAt(0)!;
      const last = runs[runs.length - 1];
      // Spaces and punctuation stay with the run they are in, if its font has them.
      const name =
        last && cp < 0x80 && !/[A-Za-z0-9]/.test(ch) && this.coverage.get(last.name)!.hasGlyphForCodePoint(cp)
          ? last.name
          : this.pick(cp, bold);
      let set = this.used.get(name);
      if (!set) this.used.set(name, (set = new Set()));
      set.add(ch);
      if (last && last.name === name) last.text += ch;
      else runs.push({ text: ch, name });
    }
    return runs.map((r) => ({ text: r.text, font: this.fonts.get(r.name)! }));
  }

  width(text: string, size: number, bold = false): number {
    return this.runs(text, bold).reduce((w, r) => w + r.font.widthOfTextAtSize(r.text, size), 0);
  }
}
