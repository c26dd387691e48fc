import { appendFile, mkdtemp, readdir, readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { SealgateError } from "../../../src/core/errors.js";
import {
  CHECKPOINTS,
  ENTRIES,
  GENESIS,
  type Ledger,
  type LedgerReader,
  parseEntry,
  sha256hex,
} from "../../../src/evidence/ledger/ledger.js";
import { FileLedger, FileLedgerReader } from "../../../src/evidence/ledger/file-ledger.js";
import type { Digest } from "../../../src/core/digest.js";

const dir = () => mkdtemp(join(tmpdir(), "sealgate-ledger-"));
/** The dev PKI's sealing key, for the tests that sign checkpoints (loaded only by them). */
async function sealingSigner() {
  const { devPki } = await import("../../support/pki.js");
  const { loadSigner } = await import("../../../src/crypto/sign/load.js");
  const { pki } = await devPki();
  return loadSigner({ type: "pem", key: pki.sealing.key, cert: pki.sealing.cert }, "k", {});
}

const rec = (i: number) => `sha256:${sha256hex(Buffer.from(`record ${i}`))}` as Digest;
/** A ledger item naming rec(i): an event, so no seal object is needed (the ledger does not read objects). */
const item = (i: number) => ({ kind: "event" as const, object: rec(i) });

describe("the hash-chained ledger", () => {
  it("chains entries by the digest of the previous line and survives reopening", async () => {
    const d = await dir();
    const l = await FileLedger.open(d);
    expect(l.head).toBe(GENESIS);
    const a = await l.append(item(0));
    const b = await l.append(item(1));
    expect([a.seq, b.seq]).toEqual([0, 1]);
    await l.close();
    const lines = (await readFile(join(d, ENTRIES), "utf8")).split("\n");
    expect(lines).toHaveLength(3);
    const t0 = JSON.parse(lines[0]!).time as string;
    expect(lines[0]).toBe(`{"kind":"event","object":"${rec(0)}","prev":"${GENESIS}","seq":0,"time":"${t0}"}`);
    expect(parseEntry(Buffer.from(lines[1]!))).toEqual({
      seq: 1,
      kind: "event",
      object: rec(1),
      prev: sha256hex(Buffer.from(lines[0]!)),
      time: b.time,
    });
    expect(b.time >= a.time).toBe(true);
    const again = await FileLedger.open(d);
    expect(again.size).toBe(2);
    expect(again.head).toBe(b.entryDigest);
    expect((await again.append(item(2))).seq).toBe(2);
    await again.close();
  });

  it("serialises concurrent appends into one chain", async () => {
    const d = await dir();
    const l = await FileLedger.open(d);
    const results = await Promise.all(Array.from({ length: 50 }, (_, i) => l.append(item(i))));
    expect(results.map((r) => r.seq)).toEqual(Array.from({ length: 50 }, (_, i) => i));
    await l.close();
  });

  it("keeps a torn tail aside, reports it, and continues the chain from the last whole entry", async () => {
    const d = await dir();
    const l = await FileLedger.open(d);
    await l.append(item(0));
    const second = await l.append(item(1));
    await l.close();
    await appendFile(join(d, ENTRIES), '{"prev":"abc","rec');
    const reopened = await FileLedger.open(d);
    expect(reopened.report.tornTail?.bytes).toBe(18);
    expect(await readFile(reopened.report.tornTail!.path, "utf8")).toBe('{"prev":"abc","rec');
    expect(reopened.size).toBe(2);
    expect(reopened.head).toBe(second.entryDigest);
    await reopened.close();
    expect((await readdir(d)).filter((f) => f.startsWith("entries.torn-"))).toHaveLength(1);
  });

  it("lets one writer in at a time, and takes over the lock of a writer that died", async () => {
    const d = await dir();
    const first = await FileLedger.open(d);
    const err = (await FileLedger.open(d).catch((e: unknown) => e)) as SealgateError;
    expect([err.code, err.exitCode]).toEqual(["LEDGER_LOCKED", 2]);
    expect(err.message).toContain(`process ${process.pid}`);
    const waiting = FileLedger.open(d, { waitMs: 5000 });
    await first.close();
    await (await waiting).close();
    // A lock left by a process that no longer exists (SIGKILLed writer) is stale.
    const { writeFile } = await import("node:fs/promises");
    const { hostname } = await import("node:os");
    await writeFile(join(d, "LOCK"), JSON.stringify({ host: hostname(), pid: 2 ** 22 + 7, started: "1" }));
    await (await FileLedger.open(d)).close();
  });

  it("refuses to append after a corrupted last entry, pointing to verify", async () => {
    const d = await dir();
    const l = await FileLedger.open(d);
    await l.append(item(0));
    await l.close();
    await appendFile(join(d, ENTRIES), "not json at all\n");
    const err = (await FileLedger.open(d).catch((e: unknown) => e)) as SealgateError;
    expect(err.code).toBe("LEDGER_CORRUPT");
    expect(err.message).toContain("sealgate verify");
  });
});

describe("checkpoints", () => {
  it("never signs a checkpoint inconsistent with the previous one", async () => {
    const signer = await sealingSigner();
    const d = await dir();
    const l = await FileLedger.open(d);
    for (let i = 0; i < 5; i++) await l.append(item(i));
    const first = await l.checkpoint(signer);
    expect(first.note.split("\n").slice(1, 2)).toEqual(["5"]);
    await l.append(item(5));
    await l.checkpoint(signer);
    await l.close();
    // Rewrite history: entry 1 now names another record (still a well-formed, chained line).
    const text = await readFile(join(d, ENTRIES), "utf8");
    const { writeFile } = await import("node:fs/promises");
    await writeFile(join(d, ENTRIES), text.replace(rec(1), rec(99)));
    const rewritten = await FileLedger.open(d);
    await rewritten.append(item(6));
    const err = (await rewritten.checkpoint(signer).catch((e: unknown) => e)) as SealgateError;
    expect(err.code).toBe("LEDGER_CORRUPT");
    expect(err.message).toContain("refusing to sign an inconsistent checkpoint");
    await rewritten.close();
  });

  it("rejects an append whose expected previous hash is stale, and writes nothing", async () => {
    const d = await dir();
    const l: Ledger = await FileLedger.open(d);
    const first = await l.append(item(0), { expectedPrev: GENESIS });
    // A writer that read the tail before `first` landed expects GENESIS still.
    const stale = (await l
      .append(item(1), { expectedPrev: GENESIS })
      .catch((e: unknown) => e)) as SealgateError;
    expect(stale.code).toBe("LEDGER_TAIL_MOVED");
    expect(stale.message).toContain("nothing was appended");
    expect(l.size).toBe(1);
    expect(l.head).toBe(first.entryDigest);
    expect(await l.includes(rec(1))).toBe(false);
    const before = await readFile(join(d, ENTRIES));
    expect(before.toString().split("\n")).toHaveLength(2);
    // Of two appends that both expect the same head, exactly one lands.
    const race = await Promise.allSettled([
      l.append(item(2), { expectedPrev: first.entryDigest }),
      l.append(item(3), { expectedPrev: first.entryDigest }),
    ]);
    expect(race.map((r) => r.status)).toEqual(["fulfilled", "rejected"]);
    const next = (race[0] as PromiseFulfilledResult<{ seq: number; entryDigest: string }>).value;
    expect(await l.append(item(4), { expectedPrev: next.entryDigest })).toMatchObject({ seq: 2 });
    await l.close();
    const reopened = await FileLedger.open(d);
    const records = [];
    for await (const batch of reopened.read()) records.push(...batch.map((e) => e.object));
    expect(records).toEqual([rec(0), rec(2), rec(4)]);
    await reopened.close();
  });

  it("reads a range of entries, as stored, through the reader and the writer alike", async () => {
    const d = await dir();
    const l = await FileLedger.open(d);
    for (let i = 0; i < 7; i++) await l.append(item(i));
    const lines = (await readFile(join(d, ENTRIES), "utf8")).split("\n");
    const range = async (r: LedgerReader, from?: number, to?: number) => {
      const out: { seq: number; line: string }[] = [];
      for await (const batch of r.read({
        ...(from !== undefined ? { from } : {}),
        ...(to !== undefined ? { to } : {}),
      }))
        out.push(...batch.map((e) => ({ seq: e.seq, line: e.line.toString() })));
      return out;
    };
    for (const reader of [l, new FileLedgerReader(d)]) {
      expect((await range(reader)).map((e) => e.seq)).toEqual([0, 1, 2, 3, 4, 5, 6]);
      expect(await range(reader, 2, 5)).toEqual([2, 3, 4].map((seq) => ({ seq, line: lines[seq] })));
      expect(await range(reader, 6, 100)).toEqual([{ seq: 6, line: lines[6] }]);
      expect(await range(reader, 3, 3)).toEqual([]);
    }
    // A torn tail (a crash mid-append, the writer not yet reopened) is not an entry to a reader.
    await appendFile(join(d, ENTRIES), '{"prev":"');
    expect((await range(new FileLedgerReader(d))).length).toBe(7);
    expect(await l.includes(rec(6))).toBe(true);
    expect(await l.includes(rec(7))).toBe(false);
    await l.close();
  });

  it("lists every checkpoint and the latest, and calls a malformed one CHECKPOINT_INVALID", async () => {
    const signer = await sealingSigner();
    const d = await dir();
    const l = await FileLedger.open(d);
    expect(await l.latestCheckpoint()).toBeUndefined();
    await l.append(item(0));
    await l.checkpoint(signer);
    await l.append(item(1));
    const second = await l.checkpoint(signer);
    const sizes = [];
    for await (const c of new FileLedgerReader(d).checkpoints()) sizes.push(c.checkpoint.size);
    expect(sizes).toEqual([1, 2]);
    expect((await l.latestCheckpoint())?.note).toBe(second.note);
    await l.close();
    await appendFile(join(d, CHECKPOINTS), "not json\n");
    const err = (await new FileLedgerReader(d).latestCheckpoint().catch((e: unknown) => e)) as SealgateError;
    expect(err.code).toBe("CHECKPOINT_INVALID");
  });
});
