import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import fontkit from "@pdf-lib/fontkit";
import type { PDFDocument, PDFFont } from "pdf-lib";
import type * as Hb from "harfbuzzjs";
import subsetFont from "subset-font";
import { BoundedCache } from "../../core/util/bounded-cache.js";

/*
 * Embedded fonts that can write any approver's name: Noto Sans (Latin, Greek, Cyrillic),
 * Noto Sans Arabic, Noto Sans Math (the template's arrows and ≥ ≤, 1 MB) and Noto Sans SC
 * (CJK, 10 MB), all OFL-licensed and shipped through npm. pdf-lib's standard fonts only encode
 * WinAnsi, so text is split into runs, each drawn with the first font that has every glyph of
 * the run.
 *
 * pdf-lib's own subsetter drops glyphs of these fonts, so HarfBuzz (hb-subset) cuts each font
 * down to the characters the document can draw, collected from its strings before layout, and
 * the small fonts are embedded whole. Full fonts are parsed once per process, and only those a
 * document needs (the CJK font is 10 MB), to tell which font has a character and to cut subsets
 * from; text is measured and encoded with the small subsets, one glyph per character where the
 * script allows it (looked up once per subset and character), shaped by HarfBuzz elsewhere.
 */

const require = createRequire(import.meta.url);

const SOURCES = {
  NotoSans: ["@expo-google-fonts/noto-sans", "400Regular/NotoSans_400Regular.ttf"],
  "NotoSans-Bold": ["@expo-google-fonts/noto-sans", "700Bold/NotoSans_700Bold.ttf"],
  NotoSansArabic: ["@expo-google-fonts/noto-sans-arabic", "400Regular/NotoSansArabic_400Regular.ttf"],
  "NotoSansArabic-Bold": ["@expo-google-fonts/noto-sans-arabic", "700Bold/NotoSansArabic_700Bold.ttf"],
  NotoSansMath: ["@expo-google-fonts/noto-sans-math", "400Regular/NotoSansMath_400Regular.ttf"],
  NotoSansSC: ["@expo-google-fonts/noto-sans-sc", "400Regular/NotoSansSC_400Regular.ttf"],
} as const;
type FontName = keyof typeof SOURCES;
// Embedding order, fixed so the output is byte-identical run to run.
const NAMES = Object.keys(SOURCES) as FontName[];

// No ligatures: "fi" stays two glyphs, so widths measured per character match what is drawn.
const FEATURES = { liga: false, clig: false, dlig: false };

interface FullFont {
  /** Code points the font has a glyph for, ascending: its cmap without the font behind it. */
  coverage: Uint32Array;
  /** Advance at size 1000 of a code point's glyph: the main face only, which `wrap` measures. */
  advance?: (cp: number) => number;
}
const MAIN_FACE = new Set<FontName>(["NotoSans", "NotoSans-Bold"]);
const fontPath = (name: FontName) => require.resolve(`${SOURCES[name][0]}/${SOURCES[name][1]}`);
const full = new Map<FontName, FullFont>();
/**
 * What a full font can draw, read on first use only. Its bytes are not kept: the CJK font's
 * 10 MB, and fontkit's parsed copy of as much again, stayed in memory for the life of the
 * process; a subset, asked for only by new people's names, reads the file again.
 */
function fullFont(name: FontName): FullFont {
  let f = full.get(name);
  if (!f) {
    const font = fontkit.create(readFileSync(fontPath(name)));
    const coverage = Uint32Array.from(font.characterSet.filter((cp) => font.hasGlyphForCodePoint(cp))).sort();
    const scale = 1000 / font.unitsPerEm;
    const advance = MAIN_FACE.has(name)
      ? (cp: number) => font.glyphForCodePoint(cp).advanceWidth * scale
      : undefined;
    full.set(name, (f = { coverage, advance }));
  }
  return f;
}

function hasGlyph(name: FontName, cp: number): boolean {
  const { coverage } = fullFont(name);
  let lo = 0;
  let hi = coverage.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    if (coverage[mid]! < cp) lo = mid + 1;
    else if (coverage[mid]! > cp) hi = mid - 1;
    else return true;
  }
  return false;
}

interface Subset {
  key: string;
  bytes: Uint8Array;
  shaper?: { font: Hb.Font; upem: number };
  /** Per code point: its glyph id as the page's hex, and its advance at size 1000. */
  glyphs: Map<number, { hex: string; units: number }>;
}
// Records drawn for the same people reuse the same subsets; a few, so a daemon stays small.
const subsets = new BoundedCache<string, Promise<Subset>>(16);
function subsetOf(name: FontName, text: string): Promise<Subset> {
  const key = `${name}\u0000${text}`;
  return subsets.get(key, () => {
    const subset = subsetFont(readFileSync(fontPath(name)), text, { targetFormat: "truetype" }).then(
      (bytes) => ({
        key,
        bytes,
        glyphs: new Map(),
      }),
    );
    // A failure is not remembered: the next document tries again.
    subset.catch(() => subsets.delete(key));
    return subset;
  });
}

/**
 * fontkit as pdf-lib calls it, but a subset's bytes are parsed once per process, not once per
 * document: the parsed font also keeps its glyph and layout caches between records.
 */
const parsed = new WeakMap<Uint8Array, ReturnType<typeof fontkit.create>>();
const parsedOnce: typeof fontkit = {
  create(bytes: Uint8Array, postscriptName?: string) {
    let font = parsed.get(bytes);
    if (!font) parsed.set(bytes, (font = fontkit.create(bytes, postscriptName)));
    return font;
  },
};

interface Face {
  regular: FontName;
  bold: FontName;
}
// Fallback order: the first face with the glyph draws it.
const FACES: Face[] = [
  { regular: "NotoSans", bold: "NotoSans-Bold" },
  { regular: "NotoSansArabic", bold: "NotoSansArabic-Bold" },
  // Before the CJK font, which has the same symbols: a Latin record never loads 10 MB for them.
  { regular: "NotoSansMath", bold: "NotoSansMath" },
  { regular: "NotoSansSC", bold: "NotoSansSC" },
];
const RTL_FONTS = new Set<FontName>(["NotoSansArabic", "NotoSansArabic-Bold"]);
/**
 * Text whose glyphs are its characters' own, one each, at their advances: scripts without
 * contextual forms, and no combining marks or format controls. Anything else is shaped.
 */
const ONE_GLYPH_EACH =
  /^(?:(?![\p{M}\p{Cf}])[\p{sc=Latin}\p{sc=Greek}\p{sc=Cyrillic}\p{sc=Common}\p{sc=Han}\p{sc=Hiragana}\p{sc=Katakana}\p{sc=Hangul}\p{sc=Bopomofo}])*$/u;

/** HarfBuzz's shaper, 20 MB of WebAssembly memory: loaded by the first document that needs it. */
let hb: typeof Hb | undefined;
function needsShaping(chars: Map<FontName, Set<string>>): boolean {
  for (const [name, set] of chars) {
    if (RTL_FONTS.has(name)) return true;
    for (const ch of set) if (!ONE_GLYPH_EACH.test(ch)) return true;
  }
  return false;
}

// Per code point and weight, the font that draws it: asked for every character of every string.
const picked = new Map<number, FontName>();
function pick(cp: number, bold: boolean): FontName {
  const key = cp * 2 + (bold ? 1 : 0);
  let name = picked.get(key);
  if (!name) {
    const face = FACES.find((f) => hasGlyph(bold ? f.bold : f.regular, cp)) ?? FACES[0]!;
    picked.set(key, (name = bold ? face.bold : face.regular));
  }
  return name;
}

// Spaces and punctuation stay with the run they are in, when its font has them.
const neutral = (ch: string) => ch.codePointAt(0)! < 0x80 && !/[A-Za-z0-9]/.test(ch);

/**
 * The characters each font may have to draw for these strings, in regular or bold. Neutral
 * characters can join any run next to them, so each font in use that has them gets them.
 */
export function charactersByFont(texts: Iterable<string>): Map<FontName, Set<string>> {
  const used = new Map<FontName, Set<string>>();
  const add = (name: FontName, ch: string) => {
    let set = used.get(name);
    if (!set) used.set(name, (set = new Set()));
    set.add(ch);
  };
  // Each distinct character once: a record's strings repeat the same few dozen.
  const distinct = new Set<string>();
  for (const text of texts) for (const ch of text) distinct.add(ch);
  distinct.delete("\n");
  const neutrals = new Set<string>();
  for (const ch of distinct) {
    if (neutral(ch)) neutrals.add(ch);
    for (const bold of [false, true]) add(pick(ch.codePointAt(0)!, bold), ch);
  }
  for (const name of [...used.keys()]) {
    for (const ch of neutrals) if (hasGlyph(name, ch.codePointAt(0)!)) add(name, ch);
  }
  return used;
}

/** Text split into runs each drawn with one font; depends on the text alone, so kept across documents. */
const splits = new BoundedCache<string, { text: string; name: FontName }[]>(50_000);
function runsByFont(text: string, bold: boolean): { text: string; name: FontName }[] {
  return splits.get(`${bold ? "b" : "r"}${text}`, () => splitByFont(text, bold));
}

function splitByFont(text: string, bold: boolean): { text: string; name: FontName }[] {
  const runs: { text: string; name: FontName }[] = [];
  const chars = [...text];
  for (let i = 0; i < chars.length; i++) {
    const ch = chars[i]!;
    const cp = ch.codePointAt(0)!;
    const last = runs[runs.length - 1];
    // Inside a right-to-left run only when more of that script follows (so ", " after an
    // Arabic name is not reordered with it).
    const follows = () => {
      const next = chars.slice(i + 1).find((c) => !neutral(c));
      return next !== undefined && pick(next.codePointAt(0)!, bold) === last!.name;
    };
    const joins = last && neutral(ch) && hasGlyph(last.name, cp) && (!RTL_FONTS.has(last.name) || follows());
    const name = joins ? last.name : pick(cp, bold);
    if (last && last.name === name) last.text += ch;
    else runs.push({ text: ch, name });
  }
  return runs;
}

export interface Run {
  text: string;
  name: FontName;
  /** Width at size 1000 of an unshaped run: its glyphs' advances. */
  units?: number;
  /** An unshaped run's glyph ids, four hex digits each, as the page shows them. */
  hex?: string;
  /** Set for shaped runs (see ONE_GLYPH_EACH): glyphs shaped by HarfBuzz, in visual order, in points at size 1. */
  shaped?: { gid: number; x: number; y: number }[];
  /** Advance of a shaped run at size 1. */
  advance?: number;
}

/**
 * An unshaped run's glyphs, one per character: ligatures are off, and the page draws each glyph
 * at its advance (no kerning), so a run's glyphs and width are its characters' own. Looked up
 * once per subset and character instead of laying out every new string.
 */
function glyphsOf(subset: Subset, text: string): { hex: string; units: number }[] {
  const out: { hex: string; units: number }[] = [];
  for (const ch of text) {
    const cp = ch.codePointAt(0)!;
    let g = subset.glyphs.get(cp);
    if (!g) {
      const font = parsedOnce.create(subset.bytes);
      const glyph = font.glyphForCodePoint(cp);
      g = {
        hex: glyph.id.toString(16).padStart(4, "0").toUpperCase(),
        units: glyph.advanceWidth * (1000 / font.unitsPerEm),
      };
      subset.glyphs.set(cp, g);
    }
    out.push(g);
  }
  return out;
}

/**
 * A run drawn one glyph per character, looked up only when asked (most lines are one run, drawn
 * without their width), then kept. Built outside FontSet: a cached run outlives its document,
 * so its closures must hold the subset alone, never the FontSet and the document behind it.
 */
function unshapedRun(r: { text: string; name: FontName }, subset: Subset): Run {
  let units: number | undefined;
  let hex: string | undefined;
  return {
    ...r,
    get units() {
      return (units ??= glyphsOf(subset, r.text).reduce((w, g) => w + g.units, 0));
    },
    get hex() {
      return (hex ??= glyphsOf(subset, r.text)
        .map((g) => g.hex)
        .join(""));
    },
  };
}

/**
 * A run's glyphs and width depend on its text and on the subset drawing it, not on the
 * document: runs are kept per combination of subsets, so records drawn for the same people
 * split, encode and measure each string once.
 */
const runCaches = new BoundedCache<string, BoundedCache<string, Run[]>>(16);
function runCacheFor(subsets: Map<FontName, Subset>): BoundedCache<string, Run[]> {
  const key = [...subsets.values()].map((s) => s.key).join("\u0001");
  return runCaches.get(key, () => new BoundedCache(20_000));
}

// Per code point and weight, its advance at size 1000 in the main face (hb-subset keeps advances).
const mainAdvances = new Map<number, number>();

export class FontSet {
  private readonly runCache: BoundedCache<string, Run[]>;

  private constructor(
    private readonly fonts: Map<FontName, PDFFont>,
    private readonly chars: Map<FontName, Set<string>>,
    private readonly subsets: Map<FontName, Subset>,
  ) {
    this.runCache = runCacheFor(subsets);
  }

  /** The document's embedded font that draws a run. */
  pdfFont(name: FontName): PDFFont {
    return this.fonts.get(name)!;
  }

  /** Fonts subset to every character of `texts` (all the text the document will draw), embedded in `doc`. */
  static async embed(doc: PDFDocument, texts: Iterable<string>): Promise<FontSet> {
    doc.registerFontkit(parsedOnce);
    const chars = charactersByFont(texts);
    if (!hb && needsShaping(chars)) hb = await import("harfbuzzjs");
    const fonts = new Map<FontName, PDFFont>();
    const embedded = new Map<FontName, Subset>();
    for (const name of NAMES) {
      const set = chars.get(name);
      if (!set) continue;
      const text = ` ${[...set].sort().join("")}`;
      const subset = await subsetOf(name, text);
      // Fixed names keep the output byte-identical run to run.
      fonts.set(
        name,
        await doc.embedFont(subset.bytes, { subset: false, customName: name, features: FEATURES }),
      );
      embedded.set(name, subset);
    }
    return new FontSet(fonts, chars, embedded);
  }

  /** Split text into runs drawable with one font each; unknown characters fall back to the first font. */
  runs(text: string, bold = false): Run[] {
    return this.runCache.get(`${bold ? "b" : "r"}${text}`, () => this.split(text, bold));
  }

  private split(text: string, bold: boolean): Run[] {
    const runs = runsByFont(text, bold);
    for (const r of runs) {
      for (const ch of r.text) {
        // A string reached the page without being passed to embed(): its glyph would be missing.
        if (ch !== " " && !this.chars.get(r.name)?.has(ch))
          throw new Error(`internal: ${JSON.stringify(ch)} was not collected for ${r.name}`);
      }
    }
    return runs.map((r) => {
      if (RTL_FONTS.has(r.name) || !ONE_GLYPH_EACH.test(r.text))
        return { ...r, ...this.shape(r.name, r.text) };
      return unshapedRun(r, this.subsets.get(r.name)!);
    });
  }

  /**
   * Arabic needs contextual forms, ligatures and right-to-left order, Devanagari reordering and
   * conjuncts, combining marks their places: pdf-lib does none of it (fontkit even throws on
   * Devanagari). HarfBuzz shapes the run with the font that is embedded, glyphs in visual order.
   */
  private shape(name: FontName, text: string) {
    const subset = this.subsets.get(name)!;
    if (!hb)
      throw new Error(`internal: ${JSON.stringify(text)} needs shaping, but embed() did not load HarfBuzz`);
    if (!subset.shaper) {
      const face = new hb.Face(new hb.Blob(subset.bytes));
      subset.shaper = { font: new hb.Font(face), upem: face.upem };
    }
    const shaper = subset.shaper;
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

  /**
   * Whether the text is drawn with the main face alone (Latin, Greek, Cyrillic). Its width is
   * then the sum of its parts' widths; elsewhere a character's font, and an Arabic glyph's
   * form, depend on its neighbours.
   */
  mainFaceOnly(text: string, bold = false): boolean {
    const main = bold ? FACES[0]!.bold : FACES[0]!.regular;
    return runsByFont(text, bold).every((r) => r.name === main);
  }

  /** Width at size 1000 of text `mainFaceOnly` accepts: the sum of its characters' advances. */
  mainFaceUnits(text: string, bold = false): number {
    let units = 0;
    for (const ch of text) {
      const cp = ch.codePointAt(0)!;
      const key = cp * 2 + (bold ? 1 : 0);
      let advance = mainAdvances.get(key);
      if (advance === undefined) {
        advance = fullFont(bold ? FACES[0]!.bold : FACES[0]!.regular).advance!(cp);
        mainAdvances.set(key, advance);
      }
      units += advance;
    }
    return units;
  }

  width(text: string, size: number, bold = false): number {
    return this.runs(text, bold).reduce((w, r) => w + runWidthAt(r, size), 0);
  }
}

/** A run's advance in points at `size`. */
export const runWidthAt = (r: Run, size: number) =>
  r.advance !== undefined ? r.advance * size : r.units! * (size / 1000);
