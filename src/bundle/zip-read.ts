import { promisify } from "node:util";
import yauzl from "yauzl";
import { SealgateError } from "../errors.js";

/*
 * A bundle is untrusted input. It is read into memory only (nothing is ever written to disk),
 * and refused before any content is used when an entry could escape a folder on extraction
 * (zip-slip, absolute paths, backslashes, symlinks), when two entries claim one name, when an
 * entry is encrypted or uses an unknown compression, or when sizes look like a zip bomb
 * (per-entry, total, ratio, count, or inflated bytes that disagree with the header).
 */

export interface ZipLimits {
  maxEntries: number;
  maxEntryBytes: number;
  maxTotalBytes: number;
  /** Largest zip file accepted at all. */
  maxZipBytes: number;
  /** Largest uncompressed/compressed ratio accepted for entries above `ratioFloorBytes`. */
  maxRatio: number;
  ratioFloorBytes: number;
}

export const DEFAULT_LIMITS: ZipLimits = {
  maxEntries: 10_000,
  maxEntryBytes: 256 * 2 ** 20,
  maxTotalBytes: 1024 * 2 ** 20,
  maxZipBytes: 1024 * 2 ** 20,
  maxRatio: 200,
  ratioFloorBytes: 2 ** 20,
};

const S_IFMT = 0o170000;
const S_IFREG = 0o100000;
const S_IFDIR = 0o040000;
const S_IFLNK = 0o120000;

const unsafe = (name: string, why: string) =>
  new SealgateError("BUNDLE_UNSAFE", `bundle entry ${JSON.stringify(name)}: ${why}; refusing the bundle`);

/** The entry name as text, or why it may not be used as a path. */
function checkName(raw: Buffer): { name: string; problem?: string } {
  let name: string;
  try {
    name = new TextDecoder("utf-8", { fatal: true }).decode(raw);
  } catch {
    return { name: raw.toString("latin1"), problem: "name is not UTF-8" };
  }
  if (name.length === 0 || raw.length > 512) return { name, problem: "empty or over-long name" };
  if ([...name].some((c) => c < " " || c === "\u007f")) return { name, problem: "control character in name" };
  if (name.includes("\\")) return { name, problem: "backslash in name (a Windows path separator)" };
  if (name.startsWith("/") || /^[A-Za-z]:/.test(name)) return { name, problem: "absolute path" };
  const segments = name.replace(/\/$/, "").split("/");
  if (segments.some((s) => s === ".."))
    return { name, problem: "'..' path segment (would escape the folder: zip-slip)" };
  if (segments.some((s) => s === "" || s === ".")) return { name, problem: "empty or '.' path segment" };
  return { name };
}

/** Unix file type from the external attributes; 0 when the creator recorded none. */
const fileType = (e: yauzl.Entry) => (e.externalFileAttributes >>> 16) & S_IFMT;

function checkEntry(e: yauzl.Entry, name: string, limits: ZipLimits) {
  const type = fileType(e);
  if (type === S_IFLNK) throw unsafe(name, "is a symbolic link");
  if (type !== 0 && type !== S_IFREG && type !== S_IFDIR) throw unsafe(name, "is not a regular file");
  if (e.isEncrypted() || e.generalPurposeBitFlag & 0x40) throw unsafe(name, "is encrypted");
  if (e.compressionMethod !== 0 && e.compressionMethod !== 8)
    throw unsafe(name, `uses compression method ${e.compressionMethod} (only stored and deflate)`);
  if (e.uncompressedSize > limits.maxEntryBytes)
    throw unsafe(name, `declares ${e.uncompressedSize} bytes, over the ${limits.maxEntryBytes}-byte limit`);
  if (e.compressionMethod === 0 && e.compressedSize !== e.uncompressedSize)
    throw unsafe(name, "stored entry whose compressed and uncompressed sizes differ");
  const ratio = e.uncompressedSize / Math.max(1, e.compressedSize);
  if (e.uncompressedSize > limits.ratioFloorBytes && ratio > limits.maxRatio)
    throw unsafe(name, `compression ratio ${Math.round(ratio)}:1 is over ${limits.maxRatio}:1 (zip bomb)`);
}

async function readEntry(zip: yauzl.ZipFile, e: yauzl.Entry, name: string): Promise<Buffer> {
  const open = promisify(zip.openReadStream.bind(zip)) as (e: yauzl.Entry) => Promise<NodeJS.ReadableStream>;
  const stream = await open(e);
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of stream) {
      size += (chunk as Buffer).length;
      // Never trust the header: stop as soon as the inflated bytes exceed what it declared.
      if (size > e.uncompressedSize) throw unsafe(name, "inflates to more bytes than its header declares");
      chunks.push(chunk as Buffer);
    }
  } catch (err) {
    (stream as unknown as { destroy?: () => void }).destroy?.();
    if (err instanceof SealgateError) throw err;
    throw unsafe(name, `cannot be inflated (${(err as Error).message})`);
  }
  if (size !== e.uncompressedSize) throw unsafe(name, "inflates to fewer bytes than its header declares");
  return Buffer.concat(chunks);
}

function nextEntry(zip: yauzl.ZipFile): Promise<yauzl.Entry | null> {
  return new Promise((resolve, reject) => {
    const done = () => {
      zip.off("entry", onEntry).off("end", onEnd).off("error", onError);
    };
    const onEntry = (e: yauzl.Entry) => (done(), resolve(e));
    const onEnd = () => (done(), resolve(null));
    const onError = (err: Error) => (done(), reject(err));
    zip.on("entry", onEntry).on("end", onEnd).on("error", onError);
    zip.readEntry();
  });
}

/** Read every file of a zip into memory, refusing hostile archives (see the module comment). */
export async function readZip(
  bytes: Buffer,
  limits: ZipLimits = DEFAULT_LIMITS,
): Promise<Map<string, Buffer>> {
  if (bytes.length > limits.maxZipBytes)
    throw new SealgateError(
      "BUNDLE_UNSAFE",
      `bundle is ${bytes.length} bytes, over the ${limits.maxZipBytes}-byte limit`,
    );
  const fromBuffer = promisify(yauzl.fromBuffer) as (b: Buffer, o: yauzl.Options) => Promise<yauzl.ZipFile>;
  let zip: yauzl.ZipFile;
  try {
    zip = await fromBuffer(bytes, { lazyEntries: true, decodeStrings: false, validateEntrySizes: true });
  } catch (cause) {
    throw new SealgateError("BUNDLE_INVALID", `not a readable zip file (${(cause as Error).message})`, {
      cause,
    });
  }
  if (zip.entryCount > limits.maxEntries)
    throw new SealgateError(
      "BUNDLE_UNSAFE",
      `bundle has ${zip.entryCount} entries, over the ${limits.maxEntries} limit`,
    );
  const files = new Map<string, Buffer>();
  const folded = new Set<string>();
  let total = 0;
  try {
    for (;;) {
      const entry = await nextEntry(zip);
      if (!entry) break;
      const { name, problem } = checkName(entry.fileName as unknown as Buffer);
      if (problem) throw unsafe(name, problem);
      checkEntry(entry, name, limits);
      const key = name.normalize("NFC").toLowerCase();
      if (files.has(name) || folded.has(key)) throw unsafe(name, "appears twice (duplicate name)");
      folded.add(key);
      total += entry.uncompressedSize;
      if (total > limits.maxTotalBytes)
        throw unsafe(name, `brings the total past the ${limits.maxTotalBytes}-byte limit (zip bomb)`);
      if (name.endsWith("/") || fileType(entry) === S_IFDIR) continue;
      files.set(name, await readEntry(zip, entry, name));
    }
  } catch (err) {
    if (err instanceof SealgateError) throw err;
    throw new SealgateError("BUNDLE_INVALID", `not a readable zip file (${(err as Error).message})`, {
      cause: err,
    });
  } finally {
    zip.close();
  }
  return files;
}
