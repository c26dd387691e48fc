import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import fontkit from "@pdf-lib/fontkit";
import type { PDFDocument, PDFFont } from "pdf-lib";
import * as hb from "harfbuzzjs";
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
let coverage: Map<FontName, Coverage> | undefined;
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
  /** Set for right-to-left runs: glyphs shaped by HarfBuzz, in visual order, in points at size 1. */
  shaped?: { gid: number; x: number; y: number }[];
  /** Advance of a shaped run at size 1. */
  advance?: number;
}

const RTL_FONTS = new Set<FontName>(["NotoSansArabic", "NotoSansArabic-Bold"]);

/** Characters each font drew in a layout pass. */
export type UsedText = Map<FontName, Set<string>>;

interface Coverage {
  hasGlyphForCodePoint(c: number): boolean;
}

export class FontSet {
  readonly used: UsedText = new Map();

  private readonly shapers = new Map<FontName, { font: hb.Font; upem: number }>();

  private constructor(
    private readonly fonts: Map<FontName, PDFFont>,
    private readonly coverage: Map<FontName, Coverage>,
    /** The bytes embedded for each font (full or subset): shaping must use the same glyph ids. */
    private readonly embedded: Map<FontName, Uint8Array>,
  ) {}

  /** Full fonts, for the first (measuring) pass. */
  static async full(doc: PDFDocument): Promise<FontSet> {
    doc.registerFontkit(fontkit);
    const fonts = new Map<FontName, PDFFont>();
    for (const [name, bytes] of fontBytes()) {
      fonts.set(name, await doc.embedFont(bytes, { subset: false, customName: name, features: FEATURES }));
    }
    return new FontSet(fonts, FontSet.coverageOf(), fontBytes());
  }

  /** Fonts cut down to what a first pass used, for the document that is saved. */
  static async subset(doc: PDFDocument, used: UsedText): Promise<FontSet> {
    doc.registerFontkit(fontkit);
    const fonts = new Map<FontName, PDFFont>();
    const embedded = new Map<FontName, Uint8Array>();
    for (const [name, bytes] of fontBytes()) {
      const chars = [...(used.get(name) ?? [])].sort().join("");
      if (!chars) continue;
      const small = await subsetFont(bytes, ` ${chars}`, { targetFormat: "truetype" });
      // Fixed names keep the output byte-identical run to run.
      fonts.set(name, await doc.embedFont(small, { subset: false, customName: name, features: FEATURES }));
      embedded.set(name, small);
    }
    return new FontSet(fonts, FontSet.coverageOf(), embedded);
  }

  /** Which code points each full font covers; parsed once per process (the CJK font is 10 MB). */
  private static coverageOf(): Map<FontName, Coverage> {
    coverage ??= new Map(
      [...fontBytes()].map(([name, bytes]) => [name, fontkit.create(bytes) as unknown as Coverage]),
    );
    return coverage;
  }

  private pick(cp: number, bold: boolean): FontName {
    const face =
      FACES.find((f) => this.coverage.get(bold ? f.bold : f.regular)!.hasGlyphForCodePoint(cp)) ?? FACES[0]!;
    return bold ? face.bold : face.regular;
  }

  /** Split text into runs drawable with one font each; unknown characters fall back to the first font. */
  runs(text: string, bold = false): Run[] {
    const runs: { text: string; name: FontName }[] = [];
    const chars = [...text];
    const neutral = (ch: string) => ch.codePointAt(0)! < 0x80 && !/[A-Za-z0-9]/.test(ch);
    chars.forEach((ch, i) => {
      const cp = ch.codePointAt(0)!;
      const last = runs[runs.length - 1];
      // Spaces and punctuation stay with the run they are in, if its font has them; inside a
      // right-to-left run only when more of that script follows (so ", " after an Arabic name
      // is not reordered with it).
      const next = chars.slice(i + 1).find((c) => !neutral(c));
      const joins =
        last &&
        neutral(ch) &&
        this.coverage.get(last.name)!.hasGlyphForCodePoint(cp) &&
        (!RTL_FONTS.has(last.name) ||
          (next !== undefined && this.pick(next.codePointAt(0)!, bold) === last.name));
      const name = joins ? last.name : this.pick(cp, bold);
      let set = this.used.get(name);
      if (!set) this.used.set(name, (set = new Set()));
      set.add(ch);
      if (last && last.name === name) last.text += ch;
      else runs.push({ text: ch, name });
    });
    return runs.map((r) => {
      const font = this.fonts.get(r.name)!;
      return RTL_FONTS.has(r.name)
        ? { text: r.text, font, ...this.shape(r.name, r.text) }
        : { text: r.text, font };
    });
  }

  /**
   * Arabic needs contextual forms, ligatures and right-to-left order, which pdf-lib does not
   * do: HarfBuzz shapes the run with the font that is embedded, giving glyphs in visual order.
   */
  private shape(name: FontName, text: string) {
    let shaper = this.shapers.get(name);
    if (!shaper) {
      const face = new hb.Face(new hb.Blob(this.embedded.get(name)!));
      shaper = { font: new hb.Font(face), upem: face.upem };
      this.shapers.set(name, shaper);
    }
    const buf = new hb.Buffer();
    buf.addText(text);
    buf.guessSegmentProperties();
    hb.shape(shaper.font, buf);
    const infos = buf.getGlyphInfos();
    const positions = buf.getGlyphPositions();
    let x = 0;
    const shaped = infos.map((g, i) => {
      const p = positions[i]!;
      const glyph = { gid: g.codepoint, x: (x + p.xOffset) / shaper.upem, y: p.yOffset / shaper.upem };
      x += p.xAdvance;
      return glyph;
    });
    return { shaped, advance: x / shaper.upem };
  }

  width(text: string, size: number, bold = false): number {
    return this.runs(text, bold).reduce(
      (w, r) => w + (r.advance !== undefined ? r.advance * size : r.font.widthOfTextAtSize(r.text, size)),
      0,
    );
  }
}
