import { createHash } from "node:crypto";
import { promisify } from "node:util";
import yauzl from "yauzl";
import { SealgateError } from "../core/errors.js";

/*
 * A bundle is untrusted input. It is never extracted (nothing is ever written to disk),
 * and refused before any content is used when an entry could escape a folder on extraction
 * (zip-slip, absolute paths, backslashes, symlinks), when two entries claim one name, when an
 * entry is encrypted or uses an unknown compression, or when sizes look like a zip bomb. Every
 * header is checked before a byte is inflated: count, per-member and per-kind sizes, the ratio of
 * every member and of the whole archive, and the total inflation budget; then each member is
 * hashed as it inflates, held only when small enough, and stopped the moment it outgrows its
 * header.
 */

export interface ZipLimits {
  maxEntries: number;
  /** Largest member of any kind (a kind's own limit, see limits.ts, may be lower). */
  maxEntryBytes: number;
  /** Total inflation budget: the declared sizes of all members together. */
  maxTotalBytes: number;
  /** Largest zip file accepted at all. */
  maxZipBytes: number;
  /** Largest uncompressed/compressed ratio of any member, whatever its size. */
  maxRatio: number;
  /** Largest ratio of the total declared size to the zip file's size. */
  maxArchiveRatio: number;
  /** Most bytes held in memory at once (members too large to hold are only hashed). */
  maxHeldBytes: number;
}

export const DEFAULT_LIMITS: ZipLimits = {
  maxEntries: 10_000,
  maxEntryBytes: 256 * 2 ** 20,
  maxTotalBytes: 512 * 2 ** 20,
  maxZipBytes: 512 * 2 ** 20,
  maxRatio: 100,
  maxArchiveRatio: 20,
  maxHeldBytes: 128 * 2 ** 20,
};

/** What a reader does with a member: its size limit, and up to what size it is held. */
export interface MemberPolicy {
  kind: string;
  maxBytes: number;
  holdBytes: number;
}

/** A member as read: its SHA-256, computed while inflating, its bytes when held, and its tail. */
export interface ZipMember {
  size: number;
  sha256: string;
  bytes?: Buffer;
  /** The last 4 KiB (a PDF's trailer), also for members that are only hashed. */
  tail: Buffer;
}

const TAIL = 4096;

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

function checkEntry(e: yauzl.Entry, name: string, limits: ZipLimits, policy: MemberPolicy) {
  const type = fileType(e);
  if (type === S_IFLNK) throw unsafe(name, "is a symbolic link");
  if (type !== 0 && type !== S_IFREG && type !== S_IFDIR) throw unsafe(name, "is not a regular file");
  if (e.isEncrypted() || e.generalPurposeBitFlag & 0x40) throw unsafe(name, "is encrypted");
  if (e.compressionMethod !== 0 && e.compressionMethod !== 8)
    throw unsafe(name, `uses compression method ${e.compressionMethod} (only stored and deflate)`);
  if (e.uncompressedSize > limits.maxEntryBytes)
    throw unsafe(name, `declares ${e.uncompressedSize} bytes, over the ${limits.maxEntryBytes}-byte limit`);
  if (e.uncompressedSize > policy.maxBytes)
    throw unsafe(
      name,
      `declares ${e.uncompressedSize} bytes, over the ${policy.maxBytes}-byte limit for a ${policy.kind}`,
    );
  if (e.compressionMethod === 0 && e.compressedSize !== e.uncompressedSize)
    throw unsafe(name, "stored entry whose compressed and uncompressed sizes differ");
  // Every member, however small: a bomb spread over many 1 MiB members is still a bomb.
  const ratio = e.uncompressedSize / Math.max(1, e.compressedSize);
  if (ratio > limits.maxRatio)
    throw unsafe(name, `compression ratio ${Math.round(ratio)}:1 is over ${limits.maxRatio}:1 (zip bomb)`);
}

/** Inflate one member into a SHA-256 (and its bytes when `hold`), trusting no header. */
async function readEntry(
  zip: yauzl.ZipFile,
  e: yauzl.Entry,
  name: string,
  hold: boolean,
): Promise<ZipMember> {
  const open = promisify(zip.openReadStream.bind(zip)) as (e: yauzl.Entry) => Promise<NodeJS.ReadableStream>;
  const stream = await open(e);
  const hash = createHash("sha256");
  const chunks: Buffer[] = [];
  let tail = Buffer.alloc(0);
  let size = 0;
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      size += chunk.length;
      // Never trust the header: stop as soon as the inflated bytes exceed what it declared.
      if (size > e.uncompressedSize) throw unsafe(name, "inflates to more bytes than its header declares");
      hash.update(chunk);
      if (hold) chunks.push(chunk);
      else tail = Buffer.concat([tail, chunk]).subarray(-TAIL);
    }
  } catch (err) {
    (stream as unknown as { destroy?: () => void }).destroy?.();
    if (err instanceof SealgateError) throw err;
    throw unsafe(name, `cannot be inflated (${(err as Error).message})`);
  }
  if (size !== e.uncompressedSize) throw unsafe(name, "inflates to fewer bytes than its header declares");
  const bytes = hold ? Buffer.concat(chunks) : undefined;
  return {
    size,
    sha256: hash.digest("hex"),
    ...(bytes ? { bytes } : {}),
    tail: Buffer.from((bytes ?? tail).subarray(-TAIL)),
  };
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

const notZip = (cause: unknown) =>
  new SealgateError("BUNDLE_INVALID", `not a readable zip file (${(cause as Error).message})`, { cause });

/** Open a zip held in memory or, by path, read from disk as needed (never read whole). */
async function openZip(source: Buffer | string, limits: ZipLimits): Promise<yauzl.ZipFile> {
  const options = { lazyEntries: true, decodeStrings: false, validateEntrySizes: true, autoClose: false };
  let zip: yauzl.ZipFile;
  try {
    zip = Buffer.isBuffer(source)
      ? await (promisify(yauzl.fromBuffer) as (b: Buffer, o: yauzl.Options) => Promise<yauzl.ZipFile>)(
          source,
          options,
        )
      : await (promisify(yauzl.open) as (p: string, o: yauzl.Options) => Promise<yauzl.ZipFile>)(
          source,
          options,
        );
  } catch (cause) {
    throw notZip(cause);
  }
  const fail = (err: SealgateError) => {
    zip.close();
    throw err;
  };
  if (zip.fileSize > limits.maxZipBytes)
    fail(
      new SealgateError(
        "BUNDLE_UNSAFE",
        `bundle is ${zip.fileSize} bytes, over the ${limits.maxZipBytes}-byte limit`,
      ),
    );
  if (zip.entryCount > limits.maxEntries)
    fail(
      new SealgateError(
        "BUNDLE_UNSAFE",
        `bundle has ${zip.entryCount} entries, over the ${limits.maxEntries} limit`,
      ),
    );
  return zip;
}

const ANY: MemberPolicy = { kind: "member", maxBytes: Infinity, holdBytes: Infinity };

/**
 * Every header of the central directory, checked before a single byte is inflated: names, types,
 * per-member and per-kind sizes, ratios, the total inflation budget and the archive's ratio.
 */
async function checkedEntries(
  zip: yauzl.ZipFile,
  limits: ZipLimits,
  policyOf: (name: string) => MemberPolicy,
) {
  const entries: { entry: yauzl.Entry; name: string; hold: boolean }[] = [];
  const folded = new Set<string>();
  let total = 0;
  let held = 0;
  for (let entry = await nextEntry(zip); entry; entry = await nextEntry(zip)) {
    const { name, problem } = checkName(entry.fileName as unknown as Buffer);
    if (problem) throw unsafe(name, problem);
    const policy = policyOf(name);
    checkEntry(entry, name, limits, policy);
    const key = name.normalize("NFC").toLowerCase();
    if (folded.has(key)) throw unsafe(name, "appears twice (duplicate name)");
    folded.add(key);
    total += entry.uncompressedSize;
    if (total > limits.maxTotalBytes)
      throw unsafe(
        name,
        `brings the total past the ${limits.maxTotalBytes}-byte inflation budget (zip bomb)`,
      );
    if (name.endsWith("/") || fileType(entry) === S_IFDIR) continue;
    const hold = entry.uncompressedSize <= policy.holdBytes;
    if (hold && (held += entry.uncompressedSize) > limits.maxHeldBytes)
      throw unsafe(name, `brings the bytes to hold in memory past the ${limits.maxHeldBytes}-byte limit`);
    entries.push({ entry, name, hold });
  }
  const ratio = total / Math.max(1, zip.fileSize);
  if (ratio > limits.maxArchiveRatio)
    throw new SealgateError(
      "BUNDLE_UNSAFE",
      `bundle inflates to ${total} bytes, ${Math.round(ratio)} times its own size: over the ${limits.maxArchiveRatio}:1 limit for a whole archive (zip bomb); refusing the bundle`,
    );
  return entries;
}

/**
 * Read every member of a zip, refusing hostile archives (see the module comment): each is hashed
 * as it inflates and held in memory only up to its policy's `holdBytes`.
 */
export async function readZipMembers(
  source: Buffer | string,
  opts: { limits?: ZipLimits; policyOf?: (name: string) => MemberPolicy } = {},
): Promise<Map<string, ZipMember>> {
  const limits = opts.limits ?? DEFAULT_LIMITS;
  const zip = await openZip(source, limits);
  const members = new Map<string, ZipMember>();
  try {
    for (const { entry, name, hold } of await checkedEntries(zip, limits, opts.policyOf ?? (() => ANY)))
      members.set(name, await readEntry(zip, entry, name, hold));
  } catch (err) {
    if (err instanceof SealgateError) throw err;
    throw notZip(err);
  } finally {
    zip.close();
  }
  return members;
}

/** Read every file of a zip into memory, refusing hostile archives (see the module comment). */
export async function readZip(
  source: Buffer | string,
  limits: ZipLimits = DEFAULT_LIMITS,
): Promise<Map<string, Buffer>> {
  const members = await readZipMembers(source, { limits });
  return new Map([...members].map(([name, m]) => [name, m.bytes!]));
}
