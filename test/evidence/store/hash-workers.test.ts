import { chmod, mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Digest } from "../../../src/core/digest.js";
import { FsObjectStore } from "../../../src/evidence/store/fs-store.js";
import { FileHashWorkers, type HashedDir } from "../../../src/evidence/store/hash-workers.js";

/*
 * A pass over every store directory skips the objects that read batches found intact while it
 * runs (verify reads records and seal objects for its walk, and they need not be hashed twice).
 * Whatever a read finds, the pass must report exactly what it reports without reads: an object
 * read corrupt is still corrupt, an object read intact still counted with its size.
 */

let store: FsObjectStore;
let digests: Digest[];
let corrupt: Digest;
let workers: FileHashWorkers;

const root = () => join(store.root, "objects", "sha256");

async function pass(dirs: string[], during?: () => Promise<unknown>) {
  const out: HashedDir[] = [];
  const it = workers.hashDirs(root(), dirs)[Symbol.asyncIterator]();
  // The first step posts the pass; the reads are queued behind it, served between directories.
  const first = it.next();
  const read = during?.();
  for (let r = await first; !r.done; r = await it.next()) out.push(r.value);
  await read;
  return out;
}

beforeAll(async () => {
  store = await new FsObjectStore(await mkdtemp(join(tmpdir(), "sealgate-hash-workers-"))).init();
  digests = [];
  for (let i = 0; i < 400; i++) digests.push(await store.put(Buffer.from(`object ${i} `.repeat(i + 1))));
  corrupt = digests[123]!;
  await chmod(store.pathOf(corrupt), 0o644);
  await writeFile(store.pathOf(corrupt), "not what its name says");
  // One worker: its reads and its directories are served in one order.
  workers = new FileHashWorkers(1);
});

afterAll(() => workers.close());

describe("FileHashWorkers: a pass over the store while objects are read", () => {
  it("reports what it reports without reads, the objects read intact and corrupt included", async () => {
    const dirs = [...new Set(digests.map((d) => d.slice(7, 9)))].sort();
    const alone = await pass(dirs);
    const read = await workers.read(digests.map((d) => store.pathOf(d)));
    const withReads = await pass(dirs, () => workers.read(digests.map((d) => store.pathOf(d))));
    expect(withReads).toEqual(alone);
    const bad = alone.flatMap((d) => ("bad" in d ? d.bad : []));
    expect(bad).toEqual([{ name: corrupt.slice(9), hex: expect.any(String) }]);
    const ok = read.out.filter((r, k) => "hex" in r && `sha256:${r.hex}` === digests[k]);
    expect(ok).toHaveLength(digests.length - 1);
    expect(alone.reduce((n, d) => n + ("objects" in d ? d.objects : 0), 0)).toBe(digests.length);
  });
});
