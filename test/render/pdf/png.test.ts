import { execFile } from "node:child_process";
import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { crc32, deflateSync, inflateSync } from "node:zlib";
import fc from "fast-check";
import { PDFDocument } from "pdf-lib";
import { describe, expect, it } from "vitest";
import { embedPng, pngPassthrough } from "../../../src/render/pdf/png.js";
import { makePng } from "../../support/png.js";

const run = promisify(execFile);

/** A PNG with any header, for the kinds makePng does not write. */
function png(
  width: number,
  height: number,
  opts: { color: number; depth?: number; interlace?: number; raw: Buffer; extra?: [string, Buffer] },
) {
  const chunk = (type: string, data: Buffer) => {
    const head = Buffer.alloc(4);
    head.writeUInt32BE(data.length);
    const body = Buffer.concat([Buffer.from(type, "latin1"), data]);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(body));
    return Buffer.concat([head, body, crc]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.set([opts.depth ?? 8, opts.color, 0, 0, opts.interlace ?? 0], 8);
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk("IHDR", ihdr),
    ...(opts.extra ? [chunk(...opts.extra)] : []),
    chunk("IDAT", deflateSync(opts.raw)),
    chunk("IEND", Buffer.alloc(0)),
  ]);
}

/** Rows with every PNG filter type, so the predictor is exercised, not just "none". */
function filteredRows(width: number, height: number, channels: number) {
  const row = width * channels + 1;
  const raw = Buffer.alloc(row * height);
  for (let y = 0; y < height; y++) {
    raw[y * row] = y % 5;
    for (let i = 1; i < row; i++) raw[y * row + i] = (i * 31 + y * 17) & 255;
  }
  return raw;
}

/** Page 1 of a PDF showing the image, rendered by poppler. */
async function rendered(image: (doc: PDFDocument) => Promise<import("pdf-lib").PDFImage>) {
  const doc = await PDFDocument.create({ updateMetadata: false });
  const img = await image(doc);
  doc.addPage([img.width, img.height]).drawImage(img, { x: 0, y: 0, width: img.width, height: img.height });
  const dir = await mkdtemp(join(tmpdir(), "sealgate-png-"));
  await writeFile(join(dir, "a.pdf"), await doc.save());
  await run("pdftoppm", ["-r", "72", "-singlefile", join(dir, "a.pdf"), join(dir, "page")]);
  return readFile(join(dir, "page.ppm"));
}

describe("embedding explanation PNGs", () => {
  it.each([
    ["RGB", makePng(97, 41, (x, y) => [x * 2, (x * y) & 255, 255 - y])],
    ["RGB with every row filter", png(64, 30, { color: 2, raw: filteredRows(64, 30, 3) })],
    ["greyscale", png(50, 20, { color: 0, raw: filteredRows(50, 20, 1) })],
  ])(
    "embeds a %s PNG's pixel data as it is, and poppler draws exactly what pdf-lib's re-encoding draws",
    async (_, bytes) => {
      const p = pngPassthrough(bytes);
      expect(p).toBeDefined();
      const ours = await rendered((doc) => embedPng(doc, bytes));
      const theirs = await rendered((doc) => doc.embedPng(bytes));
      expect(ours.equals(theirs)).toBe(true);
    },
  );

  it("leaves transparency, palettes, 16-bit and interlaced PNGs to pdf-lib", async () => {
    const rgba = png(8, 8, { color: 6, raw: filteredRows(8, 8, 4) });
    expect(pngPassthrough(rgba)).toBeUndefined();
    expect(pngPassthrough(png(8, 8, { color: 2, depth: 16, raw: filteredRows(8, 8, 6) }))).toBeUndefined();
    expect(pngPassthrough(png(8, 8, { color: 2, interlace: 1, raw: filteredRows(8, 8, 3) }))).toBeUndefined();
    const trns: [string, Buffer] = ["tRNS", Buffer.from([0, 0, 0, 0, 0, 0])];
    expect(pngPassthrough(png(8, 8, { color: 2, raw: filteredRows(8, 8, 3), extra: trns }))).toBeUndefined();
    // Still embedded, by pdf-lib, and drawn the same.
    expect(
      (await rendered((doc) => embedPng(doc, rgba))).equals(await rendered((doc) => doc.embedPng(rgba))),
    ).toBe(true);
  });

  it("never passes through pixel data that does not inflate to exactly what the header says", () => {
    expect(pngPassthrough(png(8, 8, { color: 2, raw: filteredRows(8, 7, 3) }))).toBeUndefined();
    expect(pngPassthrough(png(8, 8, { color: 2, raw: filteredRows(8, 9, 3) }))).toBeUndefined();
    const good = makePng(30, 20, (x, y) => [x, y, x ^ y]);
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 1, max: 255 })), { minLength: 1, maxLength: 4 }),
        fc.option(fc.nat(), { nil: undefined }),
        (flips, cut) => {
          const bad = Buffer.from(good);
          for (const [at, x] of flips) bad[at % bad.length]! ^= x;
          const bytes = cut === undefined ? bad : bad.subarray(0, cut % bad.length);
          const p = pngPassthrough(bytes);
          if (p) {
            const pixels = inflateSync(p.data);
            expect(pixels.length).toBe((p.width * p.colors + 1) * p.height);
          }
        },
      ),
      { numRuns: 500 },
    );
  });
});
