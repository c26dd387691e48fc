import { createHash } from "node:crypto";
import { chmod, mkdtemp, readdir, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { SealgateError } from "../../../src/core/errors.js";
import { FsObjectStore } from "../../../src/evidence/store/fs-store.js";

const store = async () => new FsObjectStore(await mkdtemp(join(tmpdir(), "sealgate-store-"))).init();
const sha = (b: Uint8Array) => `sha256:${createHash("sha256").update(b).digest("hex")}`;

describe("the content-addressed object store", () => {
  it("stores bytes under their SHA-256, once, read-only", async () => {
    const s = await store();
    const bytes = Buffer.from("explanation.png bytes ✓");
    const d = await s.put(bytes);
    expect(d).toBe(sha(bytes));
    expect(await s.put(bytes)).toBe(d);
    expect(Buffer.from(await s.get(d))).toEqual(bytes);
    expect((await stat(s.pathOf(d))).mode & 0o777).toBe(0o444);
    const all: string[] = [];
    for await (const x of s.list()) all.push(x);
    expect(all).toEqual([d]);
  });

  it("stores objects put at once, the same one several times included, each once and whole", async () => {
    const s = await store();
    // Lanes sealing at once put the same policy and explanation, and their own records, together.
    const blobs = Array.from({ length: 40 }, (_, i) => Buffer.alloc(1000 + i * 977, i % 7));
    const digests = await Promise.all(blobs.map((b) => s.put(b)));
    expect(digests).toEqual(blobs.map(sha));
    const listed: string[] = [];
    for await (const d of s.list()) listed.push(d);
    expect(listed.sort()).toEqual([...new Set(digests)].sort());
    for (const [i, d] of digests.entries()) expect(Buffer.from(await s.get(d))).toEqual(blobs[i]);
    // Nothing left half-way: every temporary file was linked into place and removed.
    expect(await readdir(join(s.root, "tmp"))).toEqual([]);
  });

  it("streams large objects in and out without holding them", async () => {
    const s = await store();
    const chunk = Buffer.alloc(1 << 20, 7);
    const h = createHash("sha256");
    const source = Readable.from(
      (function* () {
        for (let i = 0; i < 64; i++) {
          chunk[0] = i;
          h.update(chunk);
          yield Buffer.from(chunk);
        }
      })(),
    );
    const { digest, size } = await s.putStream(source);
    expect(size).toBe(64 << 20);
    expect(digest).toBe(`sha256:${h.digest("hex")}`);
    const out = createHash("sha256");
    await pipeline(await s.open(digest), out);
    expect(`sha256:${out.digest("hex")}`).toBe(digest);
  });

  it("keeps nothing of a stream that fails half-way, and says why", async () => {
    const s = await store();
    const source = Readable.from(
      (async function* () {
        yield Buffer.alloc(1 << 20, 1);
        throw new Error("connection reset while downloading model.pkl");
      })(),
    );
    await expect(s.putStream(source)).rejects.toThrow("connection reset while downloading model.pkl");
    expect(await readdir(join(s.root, "tmp"))).toEqual([]);
    const listed: string[] = [];
    for await (const d of s.list()) listed.push(d);
    expect(listed).toEqual([]);
  });

  it("detects a corrupted object on every read path", async () => {
    const s = await store();
    const d = await s.put(Buffer.from("approval assertion"));
    await chmod(s.pathOf(d), 0o644);
    await writeFile(s.pathOf(d), "approval assertion, edited");
    expect(((await s.get(d).catch((e) => e)) as SealgateError).code).toBe("OBJECT_CORRUPT");
    const err = await pipeline(await s.open(d), createHash("sha256")).catch((e) => e);
    expect((err as SealgateError).code).toBe("OBJECT_CORRUPT");
  });

  it("peeks at a range of an object, from its start or its end, clipped to its size", async () => {
    const s = await store();
    const d = await s.put(Buffer.from("%PDF-1.7 body trailer"));
    const text = async (start: number, length: number) =>
      Buffer.from(await s.peek(d, start, length)).toString();
    expect(await text(0, 5)).toBe("%PDF-");
    expect(await text(-7, 7)).toBe("trailer");
    expect(await text(-100, 100)).toBe("%PDF-1.7 body trailer");
    expect(await text(9, 4)).toBe("body");
    expect(await text(50, 4)).toBe("");
    const missing = `sha256:${"0".repeat(64)}` as const;
    expect(((await s.peek(missing, 0, 5).catch((e) => e)) as SealgateError).code).toBe("OBJECT_MISSING");
  });

  it("names a missing object and refuses a malformed digest", async () => {
    const s = await store();
    const missing = `sha256:${"0".repeat(64)}` as const;
    expect(((await s.get(missing).catch((e) => e)) as SealgateError).code).toBe("OBJECT_MISSING");
    expect(((await s.open(missing).catch((e) => e)) as SealgateError).code).toBe("OBJECT_MISSING");
    expect(() => s.pathOf("sha256:../../etc/passwd" as never)).toThrow(/not an object digest/);
    expect(await s.has(missing)).toBe(false);
  });

  it("lets exactly one of concurrent putIfAbsent callers create an object, whatever the race", async () => {
    // Two stores on one directory are two writers (as two processes would be); each call
    // passes the existence check before any link, so only link(2) decides who created it.
    const s = await store();
    const other = await new FsObjectStore(s.root).init();
    const seen = new Set<string>();
    await fc.assert(
      fc.asyncProperty(
        fc.uint8Array({ minLength: 0, maxLength: 4096 }),
        fc.array(fc.constantFrom("bytes", "stream", "other"), { minLength: 2, maxLength: 8 }),
        async (bytes, callers) => {
          const results = await Promise.all(
            callers.map((how) =>
              how === "stream"
                ? s.putStream(Readable.from([Buffer.from(bytes)]))
                : (how === "other" ? other : s).putIfAbsent(bytes),
            ),
          );
          const digest = sha(bytes);
          expect(results.map((r) => r.digest)).toEqual(callers.map(() => digest));
          // Exactly one, unless an earlier run already stored these very bytes.
          const created = results.filter((r) => r.created).length;
          expect(created).toBe(seen.has(digest) ? 0 : 1);
          seen.add(digest);
          expect((await s.putIfAbsent(bytes)).created).toBe(false);
          expect(Buffer.from(await s.get(digest as never))).toEqual(Buffer.from(bytes));
        },
      ),
      { numRuns: 60 },
    );
    expect(await readdir(join(s.root, "tmp"))).toEqual([]);
  });
});
