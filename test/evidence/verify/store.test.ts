import { cp, mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { sealSampleRecord } from "../../../src/dev/sample-record.js";
import { CHECKPOINTS, ENTRIES } from "../../../src/evidence/ledger/ledger.js";
import { FileLedger } from "../../../src/evidence/ledger/file-ledger.js";
import { loadSigner } from "../../../src/crypto/sign/load.js";
import { FsObjectStore } from "../../../src/evidence/store/fs-store.js";
import type { Finding } from "../../../src/evidence/verify/findings.js";
import { verifyStore } from "../../../src/evidence/verify/store.js";
import { verifyParts } from "../../../src/app/store.js";
import { devPki } from "../../support/pki.js";

const N = 24;
let base: string;
let trust: Awaited<ReturnType<typeof devPki>>["trust"];
let lineStarts: number[];
let entries: Buffer;

/** A store with N records and checkpoints at 6, 13 and N (every entry signed). */
beforeAll(async () => {
  const pki = await devPki();
  trust = pki.trust;
  const signer = await loadSigner(
    { type: "pem", key: pki.pki.sealing.key, cert: pki.pki.sealing.cert },
    "k",
    {},
  );
  base = await mkdtemp(join(tmpdir(), "sealgate-verify-"));
  const store = await new FsObjectStore(base).init();
  const ledger = await FileLedger.open(join(base, "ledger"));
  for (let i = 0; i < N; i++) {
    await sealSampleRecord(store, ledger, `Ægir ${i}`);
    if (i + 1 === 6 || i + 1 === 13 || i + 1 === N)
      await ledger.checkpoint(signer, new Date(Date.now() + i * 1000));
  }
  await ledger.close();
  entries = await readFile(join(base, "ledger", ENTRIES));
  lineStarts = [0];
  for (let i = 0; i < entries.length - 1; i++) if (entries[i] === 10) lineStarts.push(i + 1);
});

async function copy(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), "sealgate-verify-copy-"));
  await cp(base, d, { recursive: true });
  return d;
}

const entryOfByte = (b: number) => lineStarts.filter((s) => s <= b).length - 1;
const lines = () => entries.toString("utf8").split("\n").slice(0, N);
/**
 * The entries findings name. A chain break no later line can settle (at the last entry) names
 * two: "entry i-1 or this one was altered".
 */
const entriesIn = (f: Finding[]) =>
  new Set(
    f.flatMap((x) => {
      const at = x.where.entry;
      if (at === undefined) return [];
      const either = x.code === "ENTRY_CHAIN_BROKEN" && x.message.includes(`entry ${at - 1} or this one`);
      return either ? [at - 1, at] : [at];
    }),
  );

/**
 * A copy of the store with entry k's year 2026 -> 2036, verified: the line stays canonical, so
 * only the next entry's prev and the checkpoint notice.
 */
async function withYearChanged(k: number) {
  const bytes = Buffer.from(entries);
  bytes[lineStarts[k]! + entries.subarray(lineStarts[k]!).indexOf('"time":"') + 10]! ^= 1;
  const d = await copy();
  await writeFile(join(d, "ledger", ENTRIES), bytes);
  return verifyStore(await verifyParts(d), { trust });
}

describe("sealgate verify --store", () => {
  it("passes an untouched store and says what is covered", async () => {
    const r = await verifyStore(await verifyParts(base), { trust });
    expect(r.findings).toEqual([]);
    expect(r).toMatchObject({ entries: N, checkpoints: 3, uncheckpointed: 0 });
  });

  it("needs the organisation's CA to check signed checkpoints", async () => {
    await expect(verifyStore(await verifyParts(base))).rejects.toThrow(/--ca/);
  });

  it("pins any single-byte change in the ledger to its entry", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.nat({ max: entries.length - 1 }),
        fc.integer({ min: 1, max: 255 }),
        async (at, x) => {
          const d = await copy();
          const bytes = Buffer.from(entries);
          bytes[at]! ^= x;
          await writeFile(join(d, "ledger", ENTRIES), bytes);
          const r = await verifyStore(await verifyParts(d), { trust });
          expect(r.findings.length).toBeGreaterThan(0);
          // The last line has no successor whose prev pins it: a change that keeps it canonical
          // (a digit of its time) is caught by the checkpoint that signs it, and named so.
          const last = entryOfByte(at) === N - 1;
          const pinned =
            entriesIn(r.findings).has(entryOfByte(at)) ||
            (last && r.findings.some((f) => f.code === "CHECKPOINT_ROOT_MISMATCH"));
          expect(pinned).toBe(true);
        },
      ),
      { numRuns: 60 },
    );
  });

  it("pins an altered time to its entry once, not to every entry after it", async () => {
    const r = await withYearChanged(2);
    const broken = r.findings.filter((f) => f.code === "ENTRY_CHAIN_BROKEN");
    expect(broken.map((f) => f.where.entry)).toEqual([2]);
    expect(broken[0]!.message).toContain("entry 4 confirms entry 3");
    expect(r.findings.filter((f) => f.code === "ENTRY_TIME_BACKWARDS")).toEqual([]);
    expect(r.findings.map((f) => f.code)).toContain("CHECKPOINT_ROOT_MISMATCH");
  });

  it("names both candidates when the altered line is the one before the last", async () => {
    // No line after the last confirms it, so the break stays ambiguous, and says so.
    const r = await withYearChanged(N - 2);
    const broken = r.findings.filter((f) => f.code === "ENTRY_CHAIN_BROKEN");
    expect(broken.map((f) => [f.where.entry, f.message])).toEqual([
      [N - 1, expect.stringContaining(`entry ${N - 2} or this one was altered`)],
    ]);
    expect(r.findings.map((f) => f.code)).toContain("CHECKPOINT_ROOT_MISMATCH");
  });

  it("pins deletion, duplication and reordering of entries, and catches truncation", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: N - 2 }),
        fc.constantFrom("delete", "duplicate", "swap", "truncate"),
        async (k, how) => {
          const l = lines();
          if (how === "delete") l.splice(k, 1);
          if (how === "duplicate") l.splice(k + 1, 0, l[k]!);
          if (how === "swap") [l[k], l[k + 1]] = [l[k + 1]!, l[k]!];
          if (how === "truncate") l.splice(k + 1);
          const d = await copy();
          await writeFile(join(d, "ledger", ENTRIES), `${l.join("\n")}\n`);
          const r = await verifyStore(await verifyParts(d), { trust });
          const at = entriesIn(r.findings);
          if (how === "delete") expect(at.has(k)).toBe(true);
          if (how === "duplicate") expect(at.has(k + 1)).toBe(true);
          if (how === "swap") expect(at.has(k)).toBe(true);
          if (how === "truncate") expect(r.findings.map((f) => f.code)).toContain("LEDGER_TRUNCATED");
        },
      ),
      { numRuns: 60 },
    );
  });

  it("re-hashes the objects a record refers to, pinning a change to the record's entry", async () => {
    const store = new FsObjectStore(base);
    const record = JSON.parse(Buffer.from(await store.get(JSON.parse(lines()[7]!).object)).toString());
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(
          record.model.manifest,
          record.request.object,
          record.explanation.object,
          record.approvals[0].assertion,
        ),
        fc.nat(),
        async (digest: string, at) => {
          const d = await copy();
          const s = new FsObjectStore(d);
          const { chmod } = await import("node:fs/promises");
          const bytes = Buffer.from(await s.get(digest as never));
          bytes[at % bytes.length]! ^= 1;
          await chmod(s.pathOf(digest as never), 0o644);
          await writeFile(s.pathOf(digest as never), bytes);
          const r = await verifyStore(await verifyParts(d), { trust });
          expect(r.findings).toEqual([
            expect.objectContaining({
              code: "OBJECT_CORRUPT",
              where: expect.objectContaining({ entry: 7, object: digest }),
            }),
          ]);
        },
      ),
      { numRuns: 12 },
    );
  });

  it("names a changed or missing object with the entry that refers to it", async () => {
    const d = await copy();
    const store = new FsObjectStore(d);
    const third = JSON.parse(lines()[2]!).object;
    const { chmod, rm } = await import("node:fs/promises");
    await chmod(store.pathOf(third), 0o644);
    await writeFile(store.pathOf(third), "changed");
    const fifth = JSON.parse(lines()[4]!).object;
    await rm(store.pathOf(fifth), { force: true });
    const r = await verifyStore(await verifyParts(d), { trust });
    expect(r.findings).toEqual([
      expect.objectContaining({
        code: "OBJECT_CORRUPT",
        where: { entry: 2, object: third, member: "object" },
      }),
      expect.objectContaining({
        code: "OBJECT_MISSING",
        where: { entry: 4, object: fifth, member: "object" },
      }),
    ]);
  });

  it("catches a forged or re-signed checkpoint", async () => {
    const d = await copy();
    const path = join(d, "ledger", CHECKPOINTS);
    const cps = (await readFile(path, "utf8")).trim().split("\n");
    const second = JSON.parse(cps[1]!);
    second.note = second.note.replace(/\n13\n/, "\n12\n");
    cps[1] = JSON.stringify(second);
    await writeFile(path, `${cps.join("\n")}\n`);
    const r = await verifyStore(await verifyParts(d), { trust });
    expect(r.findings).toEqual([
      expect.objectContaining({ code: "SIGNATURE_INVALID", where: { checkpoint: 1 } }),
    ]);
    const other = await devPki("ec-p256", "verify-other");
    const foreign = await verifyStore(await verifyParts(base), { trust: other.trust });
    expect(foreign.findings.map((f) => [f.code, f.where.checkpoint])).toEqual([
      ["CERT_UNTRUSTED_ROOT", 0],
      ["CERT_UNTRUSTED_ROOT", 1],
      ["CERT_UNTRUSTED_ROOT", 2],
    ]);
  });
});
