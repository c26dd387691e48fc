import { chmod, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { verifyParts } from "../../../src/app/store.js";
import type { Digest } from "../../../src/core/digest.js";
import type { EvidenceStore } from "../../../src/evidence/store/evidence-store.js";
import { FsObjectStore } from "../../../src/evidence/store/fs-store.js";
import { verifyStore } from "../../../src/evidence/verify/store.js";
import { sealedRecords, type SealedStore } from "../../support/sealed-records.js";

/*
 * Issue 21 item 1: FsObjectStore gives verify --store two batched paths (hashEvery: list and
 * hash a directory per worker message; getMany: the records and seal objects read and hashed on
 * a worker). They must change nothing but speed: each gives what the one-at-a-time calls give,
 * and verify reports the very same findings and warnings through them as through a store that
 * has only the required EvidenceStore methods.
 */

let s: SealedStore;
let store: FsObjectStore;
let record: Digest;
let seal: Digest;
let pdf: Digest;
let event: Digest;

/** The store as a backend without the optional batched methods. */
const plain = (st: FsObjectStore): EvidenceStore => ({
  put: (b) => st.put(b),
  putIfAbsent: (b) => st.putIfAbsent(b),
  putStream: (r) => st.putStream(r),
  get: (d) => st.get(d),
  open: (d) => st.open(d),
  peek: (d, a, n) => st.peek(d, a, n),
  has: (d) => st.has(d),
  hashStored: (ds) => st.hashStored(ds),
  list: () => st.list(),
});

const settled = <T>(p: Promise<T>) =>
  p.then(
    (v) => ({ value: v }),
    (e: unknown) => ({ error: `${(e as { code?: string }).code}: ${(e as Error).message}` }),
  );

beforeAll(async () => {
  s = await sealedRecords(3);
  store = new FsObjectStore(s.root);
  const lines = (await readFile(join(s.root, "ledger", "entries.log"), "utf8")).trim().split("\n");
  const entries = lines.map((l) => JSON.parse(l) as { object: Digest; seal: Digest });
  record = entries[1]!.object;
  seal = entries[2]!.seal;
  pdf = (JSON.parse(Buffer.from(await store.get(entries[0]!.seal)).toString()) as { pdf: Digest }).pdf;
  event = await store.put(Buffer.from("an object nothing references"));
  // One altered record, one altered PDF (read only by the re-hash), one seal object gone.
  for (const [d, at] of [
    [record, 10],
    [pdf, 1000],
  ] as const) {
    const bytes = Buffer.from(await store.get(d));
    bytes[at]! ^= 0x20;
    await chmod(store.pathOf(d), 0o644);
    await writeFile(store.pathOf(d), bytes);
  }
  await rm(store.pathOf(seal));
}, 600_000);

describe("verify --store through the batched store paths", () => {
  it("getMany gives, for each digest, what get gives: the bytes or the same error", async () => {
    const all: Digest[] = [];
    for await (const d of store.list()) all.push(d);
    const asked = [
      ...all,
      seal,
      "sha256:not-a-digest" as Digest,
      `sha256:${"0".repeat(64)}` as Digest,
      record,
    ];
    const many = await store.getMany(asked);
    expect(many).toHaveLength(asked.length);
    for (const [k, d] of asked.entries()) {
      const one = await settled(store.get(d));
      const got = many[k]!;
      if ("error" in one) {
        expect(got).not.toBeInstanceOf(Uint8Array);
        const e = (got as { error: { code?: string; message: string } }).error;
        expect(`${e.code}: ${e.message}`).toBe(one.error);
      } else expect(Buffer.from(got as Uint8Array).equals(Buffer.from(one.value))).toBe(true);
    }
  });

  it("hashEvery lists what list lists, in its order, and finds what hashStored finds", async () => {
    const listed: Digest[] = [];
    for await (const d of store.list()) listed.push(d);
    const byOne = await store.hashStored(listed);
    const batches = [];
    for await (const b of store.hashEvery()) batches.push(b);
    expect(batches.flatMap((b) => b.listed)).toEqual(listed);
    const corrupt = listed.flatMap((d, k) => {
      const r = byOne[k]!;
      return "actual" in r && r.actual !== d ? [{ digest: d, actual: r.actual }] : [];
    });
    expect(batches.flatMap((b) => b.corrupt)).toEqual(corrupt);
    expect(corrupt.map((c) => c.digest).sort()).toEqual([record, pdf].sort());
    expect(batches.flatMap((b) => b.unreadable)).toEqual([]);
    const sizes = byOne.map((r) => ("size" in r ? r.size : 0));
    expect(batches.reduce((n, b) => n + b.bytes, 0)).toBe(sizes.reduce((a, b) => a + b, 0));
    expect(batches.reduce((n, b) => n + b.objects, 0)).toBe(listed.length);
  });

  it("reports the same findings and warnings as through the required methods alone", async () => {
    const parts = await verifyParts(s.root);
    const batched = await verifyStore(parts, { trust: s.trust });
    const oneByOne = await verifyStore(
      { ...parts, store: plain(new FsObjectStore(s.root)) },
      { trust: s.trust },
    );
    expect(batched).toEqual(oneByOne);
    expect(batched.findings.map((f) => [f.code, f.where.object])).toEqual(
      expect.arrayContaining([
        ["OBJECT_CORRUPT", record],
        ["OBJECT_MISSING", seal],
        ["OBJECT_CORRUPT", pdf],
      ]),
    );
    expect(batched.warnings.map((w) => [w.code, w.where.object])).toContainEqual([
      "OBJECT_UNREFERENCED",
      event,
    ]);
  });
});
