import type { FontSet } from "./fonts.js";
import { BoundedCache } from "../../core/util/bounded-cache.js";

/*
 * Greedy line breaking: as many words on a line as fit in the column, and a word wider than the
 * column (a digest) broken by character. The breaks are those of re-measuring every candidate
 * line; for text in the main face the widths are summed instead, which gives the same breaks.
 */

/**
 * Lines already broken, across documents: labels, template sentences, names and comments recur
 * in record after record. Breaks depend on the text, column, size and weight only (a subset
 * keeps its full font's advances and shaping), not on the document's font subsets.
 */
const broken = new BoundedCache<string, readonly string[]>(20_000);

/** Lines of at most `width` points at font size `size`. */
export function wrap(
  fonts: FontSet,
  text: string,
  width: number,
  size: number,
  bold = false,
): readonly string[] {
  return broken.get(`${bold ? "b" : "r"}${width} ${size}\n${text}`, () =>
    text
      .split("\n")
      .flatMap((para) =>
        fonts.mainFaceOnly(para, bold)
          ? wrapSummed(fonts, para, width, size, bold)
          : wrapMeasured(fonts, para, width, size, bold),
      ),
  );
}

/**
 * Each word is measured once (widths are remembered per font and string) and a line's width is
 * the sum of its words'. The sums are kept at size 1000, where the main face's glyph advances
 * are whole numbers, so they are exact.
 */
function wrapSummed(fonts: FontSet, para: string, width: number, size: number, bold: boolean): string[] {
  const units = (s: string) => fonts.mainFaceUnits(s, bold);
  const points = (u: number) => u * (size / 1000);
  const lines: string[] = [];
  // The line so far and its width (at size 1000) with and without its trailing whitespace.
  let line = "";
  let full = 0;
  let trimmed = 0;
  for (const word of para.split(/(?<=\s)/)) {
    const ink = word.trimEnd();
    const fits = ink ? full + units(ink) : trimmed;
    if (points(fits) <= width) {
      line += word;
      if (ink) trimmed = fits;
      full = (ink ? fits : full) + units(word.slice(ink.length));
      continue;
    }
    if (line) lines.push(line.trimEnd());
    line = "";
    full = 0;
    for (const ch of word) {
      const w = units(ch);
      if (points(full + w) > width && line) {
        lines.push(line);
        line = "";
        full = 0;
      }
      line += ch;
      full += w;
    }
    trimmed = units(line.trimEnd());
  }
  lines.push(line.trimEnd());
  return lines;
}

/**
 * Mixed scripts re-measure each candidate line: which font draws a space or a comma, and the
 * form of an Arabic letter, depend on their neighbours.
 */
function wrapMeasured(fonts: FontSet, para: string, width: number, size: number, bold: boolean): string[] {
  const measure = (s: string) => fonts.width(s, size, bold);
  const lines: string[] = [];
  let line = "";
  for (const word of para.split(/(?<=\s)/)) {
    const candidate = line + word;
    if (measure(candidate.trimEnd()) <= width) {
      line = candidate;
      continue;
    }
    if (line) lines.push(line.trimEnd());
    line = "";
    for (const ch of word) {
      if (measure(line + ch) > width && line) {
        lines.push(line);
        line = "";
      }
      line += ch;
    }
  }
  lines.push(line.trimEnd());
  return lines;
}
