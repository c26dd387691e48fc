import { createHash, randomBytes } from "node:crypto";
import { constants, createReadStream } from "node:fs";
import { type FileHandle, link, mkdir, open, readdir, readFile, rm, stat } from "node:fs/promises";
import { join } from "node:path";
import { type Readable, Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import { SealgateError } from "../errors.js";
import { type Digest, digestOf, isDigest, type ObjectStore } from "./object-store.js";

/*
 * The embedded object store: one file per object at objects/sha256/<2 hex>/<62 hex>. A write
 * goes to tmp/, is hashed as it streams, fsynced, then hard-linked into place: link(2) fails
 * if the name exists, so an object is created exactly once and never overwritten; the
 * directory is fsynced. Files are read-only (0444) from creation.
 */

// Created read-only: the one open descriptor may still write it, nothing after can.
const CREATE_READ_ONLY = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL;

export class FsObjectStore implements ObjectStore {
  private readonly objects: string;
  private readonly tmp: string;

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

  /** Store bytes held in memory: hashed first, so an object already stored costs one stat. */
  async put(bytes: Uint8Array): Promise<Digest> {
    const digest = digestOf(bytes);
    if (await this.has(digest)) return digest;
    await this.place(await this.writeTemp((fh) => fh.writeFile(bytes)), this.pathOf(digest));
    return digest;
  }

  async putStream(stream: Readable): Promise<{ digest: Digest; size: number }> {
    const hash = createHash("sha256");
    let size = 0;
    const tmp = await this.writeTemp(async (fh) => {
      for await (const chunk of stream) {
        const buf = chunk as Buffer;
        hash.update(buf);
        size += buf.length;
        await fh.write(buf);
      }
    });
    const digest = `sha256:${hash.digest("hex")}` as Digest;
    await this.place(tmp, this.pathOf(digest));
    return { digest, size };
  }

  /** A new file under tmp/, filled and fsynced; removed again if filling fails. */
  private async writeTemp(fill: (fh: FileHandle) => Promise<void>): Promise<string> {
    const tmp = join(this.tmp, `${Date.now()}-${randomBytes(8).toString("hex")}`);
    const fh = await open(tmp, CREATE_READ_ONLY, 0o444);
    try {
      await fill(fh);
      await fh.sync();
    } catch (err) {
      await fh.close();
      await rm(tmp, { force: true });
      throw err;
    }
    await fh.close();
    return tmp;
  }

  /** Link a complete, fsynced temporary file into place (read-only from creation) and sync its directory. */
  private async place(tmp: string, final: string): Promise<void> {
    const dir = join(final, "..");
    try {
      await link(tmp, final).catch(async (err: { code?: string }) => {
        if (err.code !== "ENOENT") throw err;
        // The first object under this prefix: create its directory, durably, then link.
        await mkdir(dir, { recursive: true });
        await syncDir(this.objects);
        await link(tmp, final);
      });
      await syncDir(dir);
    } catch (err) {
      if ((err as { code?: string }).code !== "EEXIST") throw err;
      // Already stored: content addressing makes the existing file the same object.
    } finally {
      await rm(tmp, { force: true });
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
  const dh = await open(dir, "r");
  try {
    await dh.sync();
  } finally {
    await dh.close();
  }
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
