import { appendFile, mkdir, mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { verifyParts } from "../../../src/app/store.js";
import { sealSampleRecord, storeSampleRecord } from "../../../src/dev/sample-record.js";
import { FileLedger } from "../../../src/evidence/ledger/file-ledger.js";
import { entryLine, GENESIS, type LedgerEntry, sha256hex } from "../../../src/evidence/ledger/ledger.js";
import { FsObjectStore } from "../../../src/evidence/store/fs-store.js";
import { SealIndex } from "../../../src/evidence/store/seal-index.js";
import { verifyStore } from "../../../src/evidence/verify/store.js";
import type { Digest } from "../../../src/core/digest.js";
import { storeSampleEvent } from "../../support/events.js";

/*
 * Migration and order rules of ledger entries v2 (issue 21): a store written by the version
 * before seal objects (v1 lines {"prev","record","seq"}, written here by hand in that format)
 * opens, takes v2 appends after its v1 lines, and verifies, saying which records predate seal
 * objects; v1 after v2 and time going backwards are findings.
 */

async function v1Store(n: number, indexed: number) {
  const root = await mkdtemp(join(tmpdir(), "sealgate-v1-"));
  const store = await new FsObjectStore(root).init();
  const index = await SealIndex.open(root);
  await mkdir(join(root, "ledger"), { recursive: true });
  let prev = GENESIS;
  const records: Digest[] = [];
  for (let i = 0; i < n; i++) {
    const record = await storeSampleRecord(store, `v1 ${i}`);
    records.push(record);
    const line = `{"prev":"${prev}","record":"${record}","seq":${i}}`;
    await appendFile(join(root, "ledger", "entries.log"), `${line}\n`);
    prev = sha256hex(Buffer.from(line));
    if (i < indexed) {
      const r = JSON.parse(Buffer.from(await store.get(record)).toString()) as { package: string };
      await index.add({
        package: r.package,
        record,
        jws: await store.put(Buffer.from(`jws of ${record}`)),
        p7s: await store.put(Buffer.from(`p7s of ${record}`)),
        pdf: await store.put(Buffer.from(`%PDF of ${record}`)),
        model: "credit-risk",
        version: String(i + 1),
        decision: "approved",
      });
    }
  }
  return { root, store, records };
}

describe("ledger entries v2 after v1", () => {
  it("opens a v1 store, appends v2 entries after it, and verifies it, naming the records that predate seal objects", async () => {
    const { root, store, records } = await v1Store(3, 2);
    const ledger = await FileLedger.open(join(root, "ledger"));
    expect(ledger.size).toBe(3);
    expect(await ledger.includes(records[1]!)).toBe(true);
    const sealed = await sealSampleRecord(store, ledger, "v2 record");
    expect(sealed.seq).toBe(3);
    const event = await storeSampleEvent(store);
    const ev = await ledger.append({ kind: "event", object: event }, { now: new Date(0) });
    // The clock said 1970; the ledger never goes back before the entry before it.
    const entries = [];
    for await (const batch of ledger.read()) entries.push(...batch);
    expect(ev.time).toBe(entries[3]!.time);
    expect(await ledger.includes(event)).toBe(true);
    await ledger.close();

    const r = await verifyStore(await verifyParts(root));
    expect(r.findings).toEqual([]);
    expect(r).toMatchObject({ entries: 5, legacyRecords: 3 });
    // The one v1 record the index does not cover: its renderings are unknown, a warning.
    expect(r.warnings).toEqual([
      expect.objectContaining({ code: "RENDERINGS_UNKNOWN", where: { entry: 2, object: records[2] } }),
    ]);
  });

  it("finds a v1 entry after a v2 entry, and time going backwards", async () => {
    const root = await mkdtemp(join(tmpdir(), "sealgate-v2-order-"));
    const store = await new FsObjectStore(root).init();
    const objects = await Promise.all([0, 1, 2, 3].map((n) => storeSampleEvent(store, n)));
    const entries: LedgerEntry[] = [
      { seq: 0, prev: "", kind: "event", object: objects[0]!, time: "2026-12-05T08:00:00.000Z" },
      { seq: 1, prev: "", kind: "event", object: objects[1]!, time: "2026-12-05T07:59:59.999Z" },
      { seq: 2, prev: "", kind: "record", object: objects[2]! },
      { seq: 3, prev: "", kind: "event", object: objects[3]!, time: "2026-12-05T08:00:01.000Z" },
    ];
    let prev = GENESIS;
    const lines = entries.map((e) => {
      const line = entryLine({ ...e, prev });
      prev = sha256hex(line);
      return line.toString();
    });
    await mkdir(join(root, "ledger"));
    await writeFile(join(root, "ledger", "entries.log"), `${lines.join("\n")}\n`);
    const r = await verifyStore(await verifyParts(root));
    expect(r.findings.map((f) => [f.code, f.where.entry])).toEqual([
      ["ENTRY_TIME_BACKWARDS", 1],
      ["ENTRY_MALFORMED", 2],
      // The v1 record entry's record is not a record here.
      ["RECORD_INVALID", 2],
    ]);
  });
});
