import { appendFile, mkdtemp, readdir, readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { SealgateError } from "../../../src/core/errors.js";
import { ENTRIES, GENESIS, Ledger, parseEntry, sha256hex } from "../../../src/evidence/ledger/ledger.js";
import type { Digest } from "../../../src/core/digest.js";

const dir = () => mkdtemp(join(tmpdir(), "sealgate-ledger-"));
const rec = (i: number) => `sha256:${sha256hex(Buffer.from(`record ${i}`))}` as Digest;

describe("the hash-chained ledger", () => {
  it("chains entries by the digest of the previous line and survives reopening", async () => {
    const d = await dir();
    const l = await Ledger.open(d);
    expect(l.head).toBe(GENESIS);
    const a = await l.append(rec(0));
    const b = await l.append(rec(1));
    expect([a.seq, b.seq]).toEqual([0, 1]);
    await l.close();
    const lines = (await readFile(join(d, ENTRIES), "utf8")).split("\n");
    expect(lines).toHaveLength(3);
    expect(lines[0]).toBe(`{"prev":"${GENESIS}","record":"${rec(0)}","seq":0}`);
    expect(parseEntry(Buffer.from(lines[1]!))).toEqual({
      seq: 1,
      record: rec(1),
      prev: sha256hex(Buffer.from(lines[0]!)),
    });
    const again = await Ledger.open(d);
    expect(again.size).toBe(2);
    expect(again.head).toBe(b.entryDigest);
    expect((await again.append(rec(2))).seq).toBe(2);
    await again.close();
  });

  it("serialises concurrent appends into one chain", async () => {
    const d = await dir();
    const l = await Ledger.open(d);
    const results = await Promise.all(Array.from({ length: 50 }, (_, i) => l.append(rec(i))));
    expect(results.map((r) => r.seq)).toEqual(Array.from({ length: 50 }, (_, i) => i));
    await l.close();
  });

  it("keeps a torn tail aside, reports it, and continues the chain from the last whole entry", async () => {
    const d = await dir();
    const l = await Ledger.open(d);
    await l.append(rec(0));
    const second = await l.append(rec(1));
    await l.close();
    await appendFile(join(d, ENTRIES), '{"prev":"abc","rec');
    const reopened = await Ledger.open(d);
    expect(reopened.report.tornTail?.bytes).toBe(18);
    expect(await readFile(reopened.report.tornTail!.path, "utf8")).toBe('{"prev":"abc","rec');
    expect(reopened.size).toBe(2);
    expect(reopened.head).toBe(second.entryDigest);
    await reopened.close();
    expect((await readdir(d)).filter((f) => f.startsWith("entries.torn-"))).toHaveLength(1);
  });

  it("lets one writer in at a time, and takes over the lock of a writer that died", async () => {
    const d = await dir();
    const first = await Ledger.open(d);
    const err = (await Ledger.open(d).catch((e: unknown) => e)) as SealgateError;
    expect([err.code, err.exitCode]).toEqual(["LEDGER_LOCKED", 2]);
    expect(err.message).toContain(`process ${process.pid}`);
    const waiting = Ledger.open(d, { waitMs: 5000 });
    await first.close();
    await (await waiting).close();
    // A lock left by a process that no longer exists (SIGKILLed writer) is stale.
    const { writeFile } = await import("node:fs/promises");
    const { hostname } = await import("node:os");
    await writeFile(join(d, "LOCK"), JSON.stringify({ host: hostname(), pid: 2 ** 22 + 7, started: "1" }));
    await (await Ledger.open(d)).close();
  });

  it("refuses to append after a corrupted last entry, pointing to verify", async () => {
    const d = await dir();
    const l = await Ledger.open(d);
    await l.append(rec(0));
    await l.close();
    await appendFile(join(d, ENTRIES), "not json at all\n");
    const err = (await Ledger.open(d).catch((e: unknown) => e)) as SealgateError;
    expect(err.code).toBe("LEDGER_CORRUPT");
    expect(err.message).toContain("sealgate verify");
  });
});

describe("checkpoints", () => {
  it("never signs a checkpoint inconsistent with the previous one", async () => {
    const { devPki } = await import("../../support/pki.js");
    const { loadSigner } = await import("../../../src/crypto/sign/load.js");
    const { pki } = await devPki();
    const signer = await loadSigner({ type: "pem", key: pki.sealing.key, cert: pki.sealing.cert }, "k", {});
    const d = await dir();
    const l = await Ledger.open(d);
    for (let i = 0; i < 5; i++) await l.append(rec(i));
    const first = await l.checkpoint(signer);
    expect(first.note.split("\n").slice(1, 2)).toEqual(["5"]);
    await l.append(rec(5));
    await l.checkpoint(signer);
    await l.close();
    // Rewrite history: entry 1 now names another record (still a well-formed, chained line).
    const text = await readFile(join(d, ENTRIES), "utf8");
    const { writeFile } = await import("node:fs/promises");
    await writeFile(join(d, ENTRIES), text.replace(rec(1), rec(99)));
    const rewritten = await Ledger.open(d);
    await rewritten.append(rec(6));
    const err = (await rewritten.checkpoint(signer).catch((e: unknown) => e)) as SealgateError;
    expect(err.code).toBe("LEDGER_CORRUPT");
    expect(err.message).toContain("refusing to sign an inconsistent checkpoint");
    await rewritten.close();
  });
});
