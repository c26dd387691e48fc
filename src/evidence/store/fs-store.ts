import { createHash, randomBytes } from "node:crypto";
import {
  closeSync,
  constants,
  createReadStream,
  fsync,
  linkSync,
  mkdirSync,
  openSync,
  rmSync,
  statSync,
  write,
  writeSync,
} from "node:fs";
import { type FileHandle, mkdir, open, readdir, readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { type Readable, Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import { promisify } from "node:util";
import { SealgateError } from "../../core/errors.js";
import { type Digest, digestOf, isDigest } from "../../core/digest.js";
import type { EvidenceStore, StoredHashes } from "./evidence-store.js";
import { FileHashWorkers, type HashedDir } from "./hash-workers.js";

/*
 * The embedded EvidenceStore: one file per object at objects/sha256/<2 hex>/<62 hex>. A write
 * goes to tmp/, is hashed as it streams, fsynced, then hard-linked into place: link(2) fails
 * if the name exists, so an object is created exactly once and never overwritten (which is
 * what makes putIfAbsent atomic); the directory is fsynced. Files are read-only (0444) from
 * creation.
 *
 * Only calls that may wait for the disk go through libuv's thread pool: the two fsyncs, and a
 * stream's writes (a large one may wait for writeback). The others (stat, open, close, link,
 * unlink, and writing bytes held in memory into the page cache) run in this thread. Each trip
 * through the pool costs two thread wake-ups, which on the 2-core VMs measured cost more CPU
 * than most of the calls: a sealed record went from 17.1 to 14.5 ms of CPU (test/bench/seal.ts
 * notes). The event loop waits only on calls that do not wait for the device.
 */
const fsyncFd = promisify(fsync);
const writeFd = promisify(write);

// Created read-only: the one open descriptor may still write it, nothing after can.
const CREATE_READ_ONLY = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL;

export class FsObjectStore implements EvidenceStore {
  private readonly objects: string;
  private readonly tmp: string;
  private hashers: FileHashWorkers | undefined;

  constructor(readonly root: string) {
    this.objects = join(root, "objects", "sha256");
    this.tmp = join(root, "tmp");
  }

  async init(): Promise<this> {
    await mkdir(this.objects, { recursive: true });
    await mkdir(this.tmp, { recursive: true });
    return this;
  }

  pathOf(digest: Digest): string {
    if (!isDigest(digest))
      throw new SealgateError("USAGE", `not an object digest: ${JSON.stringify(digest)}`);
    const hex = digest.slice(7);
    return join(this.objects, hex.slice(0, 2), hex.slice(2));
  }

  async put(bytes: Uint8Array): Promise<Digest> {
    return (await this.putIfAbsent(bytes)).digest;
  }

  /** Bytes held in memory: hashed first, so an object already stored costs one stat. */
  async putIfAbsent(bytes: Uint8Array): Promise<{ digest: Digest; created: boolean }> {
    const digest = digestOf(bytes);
    const final = this.pathOf(digest);
    if (statSync(final, { throwIfNoEntry: false })) return { digest, created: false };
    const created = await this.place(
      await this.writeTemp((fd) => {
        for (let at = 0; at < bytes.length;) at += writeSync(fd, bytes, at);
      }),
      final,
    );
    return { digest, created };
  }

  async putStream(stream: Readable): Promise<{ digest: Digest; size: number; created: boolean }> {
    const hash = createHash("sha256");
    let size = 0;
    const tmp = await this.writeTemp(async (fd) => {
      // Written through the pool: a large stream may wait on writeback, which must not block the loop.
      for await (const chunk of stream) {
        const buf = chunk as Buffer;
        hash.update(buf);
        size += buf.length;
        for (let at = 0; at < buf.length;) at += (await writeFd(fd, buf, at)).bytesWritten;
      }
    });
    const digest = `sha256:${hash.digest("hex")}` as Digest;
    const created = await this.place(tmp, this.pathOf(digest));
    return { digest, size, created };
  }

  /** A new file under tmp/, filled and fsynced; removed again if filling fails. */
  private async writeTemp(fill: (fd: number) => void | Promise<void>): Promise<string> {
    const tmp = join(this.tmp, `${Date.now()}-${randomBytes(8).toString("hex")}`);
    const fd = openSync(tmp, CREATE_READ_ONLY, 0o444);
    try {
      await fill(fd);
      await fsyncFd(fd);
    } catch (err) {
      closeSync(fd);
      rmSync(tmp, { force: true });
      throw err;
    }
    closeSync(fd);
    return tmp;
  }

  /**
   * Link a complete, fsynced temporary file into place (read-only from creation) and sync its
   * directory. False when the object was already there: link(2) lets exactly one caller create it.
   */
  private async place(tmp: string, final: string): Promise<boolean> {
    const dir = join(final, "..");
    try {
      try {
        linkSync(tmp, final);
      } catch (err) {
        if ((err as { code?: string }).code !== "ENOENT") throw err;
        // The first object under this prefix: create its directory, durably, then link.
        mkdirSync(dir, { recursive: true });
        await syncDir(this.objects);
        linkSync(tmp, final);
      }
      await syncDir(dir);
      return true;
    } catch (err) {
      if ((err as { code?: string }).code !== "EEXIST") throw err;
      // Already stored: content addressing makes the existing file the same object.
      return false;
    } finally {
      rmSync(tmp, { force: true });
    }
  }

  async get(digest: Digest): Promise<Uint8Array> {
    let bytes: Buffer;
    try {
      bytes = await readFile(this.pathOf(digest));
    } catch (err) {
      throw missingOr(err, digest);
    }
    const actual = digestOf(bytes);
    if (actual !== digest) throw corrupt(digest, actual);
    return bytes;
  }

  async open(digest: Digest): Promise<Readable> {
    const path = this.pathOf(digest);
    try {
      await stat(path);
    } catch (err) {
      throw missingOr(err, digest);
    }
    const hash = createHash("sha256");
    const out = new Transform({
      transform(chunk, _enc, cb) {
        hash.update(chunk as Buffer);
        cb(null, chunk);
      },
      flush(cb) {
        const actual = `sha256:${hash.digest("hex")}`;
        cb(actual === digest ? null : corrupt(digest, actual));
      },
    });
    pipeline(createReadStream(path), out).catch((err) => out.destroy(err));
    return out;
  }

  async peek(digest: Digest, start: number, length: number): Promise<Uint8Array> {
    let fh: FileHandle;
    try {
      fh = await open(this.pathOf(digest), "r");
    } catch (err) {
      throw missingOr(err, digest);
    }
    try {
      const size = (await fh.stat()).size;
      const from = Math.max(0, start < 0 ? size + start : Math.min(start, size));
      const buf = Buffer.alloc(Math.max(0, Math.min(length, size - from)));
      const { bytesRead } = await fh.read(buf, 0, buf.length, from);
      return buf.subarray(0, bytesRead);
    } finally {
      await fh.close();
    }
  }

  /** Hashed on worker threads (hash-workers.ts), started on the first call. */
  async hashStored(digests: Digest[]): Promise<({ actual: Digest; size: number } | { error: unknown })[]> {
    const results = await this.workers().hash(digests.map((d) => this.pathOf(d)));
    return results.map((r, i) =>
      "hex" in r
        ? { actual: `sha256:${r.hex}` as Digest, size: r.size }
        : { error: hashError(r, digests[i]!) },
    );
  }

  /** One directory per batch, listed and hashed on the worker threads: list() and hashStored() in one pass. */
  async *hashEvery(): AsyncIterable<StoredHashes> {
    const dirs = (await readdir(this.objects).catch(() => [] as string[])).filter((d) =>
      /^[0-9a-f]{2}$/.test(d),
    );
    let k = 0;
    // In the order list() lists them.
    for await (const r of this.workers().hashDirs(this.objects, dirs)) yield dirHashes(dirs[k++]!, r);
  }

  /** Read and re-hashed on the worker threads, in batches: each as get() returns or throws it. */
  async getMany(digests: Digest[]): Promise<(Uint8Array | { error: unknown })[]> {
    const out: (Uint8Array | { error: unknown })[] = new Array(digests.length);
    const at: number[] = [];
    const paths: string[] = [];
    digests.forEach((d, i) => {
      try {
        paths.push(this.pathOf(d));
        at.push(i);
      } catch (err) {
        // As get() reports it.
        out[i] = { error: missingOr(err, d) };
      }
    });
    const { out: results, bytes } = await this.workers().read(paths);
    let offset = 0;
    results.forEach((r, k) => {
      const i = at[k]!;
      const digest = digests[i]!;
      if (!("hex" in r)) return void (out[i] = { error: readError(r, digest) });
      const object = Buffer.from(bytes, offset, r.size);
      offset += r.size;
      out[i] = `sha256:${r.hex}` === digest ? object : { error: corrupt(digest, `sha256:${r.hex}`) };
    });
    return out;
  }

  private workers(): FileHashWorkers {
    return (this.hashers ??= new FileHashWorkers());
  }

  /** Stop the hashing threads, if started (they never keep the process alive). */
  async close(): Promise<void> {
    await this.hashers?.close();
    this.hashers = undefined;
  }

  async has(digest: Digest): Promise<boolean> {
    return stat(this.pathOf(digest)).then(
      () => true,
      () => false,
    );
  }

  async *list(): AsyncIterable<Digest> {
    for (const dir of await readdir(this.objects).catch(() => [] as string[])) {
      if (!/^[0-9a-f]{2}$/.test(dir)) continue;
      for (const name of await readdir(join(this.objects, dir))) {
        const digest = `sha256:${dir}${name}`;
        if (isDigest(digest)) yield digest;
      }
    }
  }
}

async function syncDir(dir: string) {
  const fd = openSync(dir, "r");
  try {
    await fsyncFd(fd);
  } finally {
    closeSync(fd);
  }
}

/** A file hashStored or hashEvery could not read. */
function hashError(r: { error: string; code?: string }, digest: Digest) {
  return r.code === "ENOENT"
    ? new SealgateError("OBJECT_MISSING", `object ${digest} is not in the store`)
    : new SealgateError("IO", `cannot read object ${digest}: ${r.error}`);
}

/** A file getMany could not read: the error get() throws. */
function readError(r: { error: string; code?: string }, digest: Digest) {
  return missingOr(Object.assign(new Error(r.error), { code: r.code }), digest);
}

/** A directory hashed on a worker, as one batch of hashEvery. */
function dirHashes(dir: string, r: HashedDir): StoredHashes {
  // list() fails the same way when a directory cannot be read.
  if ("error" in r) throw new SealgateError("IO", `cannot list objects/sha256/${dir}: ${r.error}`);
  const out: StoredHashes = { listed: [], objects: r.objects, bytes: r.bytes, corrupt: [], unreadable: [] };
  for (const name of r.listed) out.listed.push(`sha256:${dir}${name}`);
  for (const b of r.bad) {
    const digest: Digest = `sha256:${dir}${b.name}`;
    if ("hex" in b) out.corrupt.push({ digest, actual: `sha256:${b.hex}` });
    else out.unreadable.push({ digest, error: hashError(b, digest) });
  }
  return out;
}

function corrupt(digest: Digest, actual: string) {
  return new SealgateError("OBJECT_CORRUPT", `object ${digest} is corrupt: its bytes hash to ${actual}`);
}

function missingOr(err: unknown, digest: Digest) {
  if ((err as { code?: string }).code === "ENOENT") {
    return new SealgateError("OBJECT_MISSING", `object ${digest} is not in the store`);
  }
  return new SealgateError("IO", `cannot read object ${digest}`, { cause: err });
}
