import yazl from "yazl";

/*
 * Deterministic zip: entries sorted by name (byte order), one fixed timestamp, one fixed mode,
 * DOS timestamps only (no extended-time field), deflate at a fixed level. The same files give
 * the same bytes, so the same event always exports to an identical bundle.
 */

/** 1980-01-01 00:00, the DOS epoch, built from local fields because DOS times are local. */
const FIXED_TIME = () => new Date(1980, 0, 1, 0, 0, 0);
const FILE_MODE = 0o100644;

const byteOrder = (a: string, b: string) => Buffer.compare(Buffer.from(a), Buffer.from(b));

export async function writeZip(files: ReadonlyMap<string, Uint8Array>): Promise<Buffer> {
  const zip = new yazl.ZipFile();
  for (const name of [...files.keys()].sort(byteOrder)) {
    zip.addBuffer(Buffer.from(files.get(name)!), name, {
      mtime: FIXED_TIME(),
      mode: FILE_MODE,
      forceDosTimestamp: true,
      compressionLevel: 9,
    });
  }
  zip.end();
  const chunks: Buffer[] = [];
  for await (const chunk of zip.outputStream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}
