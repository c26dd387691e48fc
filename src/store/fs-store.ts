import { createHash, randomBytes } from "node:crypto";
import { constants, createReadStream } from "node:fs";
import { chmod, link, mkdir, open, readdir, readFile, rm, stat } from "node:fs/promises";
import { join } from "node:path";
import { PassThrough, type Readable, Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import { SealgateError } from "../errors.js";
import { type Digest, isDigest, type ObjectStore } from "./object-store.js";

/*
 * The embedded object store: one file per object at objects/sha256/<2 hex>/<62 hex>. A write
 * goes to tmp/, is hashed as it streams, fsynced, then hard-linked into place: link(2) fails
 * if the name exists, so an object is created exactly once and never overwritten; the
 * directory is fsynced and the file made read-only.
 */

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

  async put(bytes: Uint8Array): Promise<Digest> {
    const source = new PassThrough();
    source.end(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
    return (await this.putStream(source)).digest;
  }

  async putStream(stream: Readable): Promise<{ digest: Digest; size: number }> {
    const tmp = join(this.tmp, `${Date.now()}-${randomBytes(8).toString("hex")}`);
    const fh = await open(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600);
    const hash = createHash("sha256");
    let size = 0;
    try {
      for await (const chunk of stream) {
        const buf = chunk as Buffer;
        hash.update(buf);
        size += buf.length;
        await fh.write(buf);
      }
      await fh.sync();
    } catch (err) {
      await fh.close();
      await rm(tmp, { force: true });
      throw err;
    }
    await fh.close();
    const digest = `sha256:${hash.digest("hex")}` as Digest;
    const final = this.pathOf(digest);
    await mkdir(join(final, ".."), { recursive: true });
    try {
      await link(tmp, final);
      await chmod(final, 0o444);
      await syncDir(join(final, ".."));
    } catch (err) {
      if ((err as { code?: string }).code !== "EEXIST") throw err;
      // Already stored: content addressing makes the existing file the same object.
    } finally {
      await rm(tmp, { force: true });
    }
    return { digest, size };
  }

  async get(digest: Digest): Promise<Uint8Array> {
    let bytes: Buffer;
    try {
      bytes = await readFile(this.pathOf(digest));
    } catch (err) {
      throw missingOr(err, digest);
    }
    const actual = `sha256:${createHash("sha256").update(bytes).digest("hex")}`;
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
