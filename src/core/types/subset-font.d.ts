declare module "subset-font" {
  /** hb-subset (HarfBuzz compiled to wasm): a font cut down to the glyphs `text` needs. */
  export default function subsetFont(
    font: Uint8Array,
    text: string,
    options?: { targetFormat?: "truetype" | "woff" | "woff2" | "sfnt" },
  ): Promise<Buffer>;
}
