import { chmod, readdir, readFile, stat, writeFile } from "node:fs/promises";
import { join, relative } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { verifyParts } from "../../../src/app/store.js";
import { FileLedger } from "../../../src/evidence/ledger/file-ledger.js";
import { FsObjectStore } from "../../../src/evidence/store/fs-store.js";
import type { Finding } from "../../../src/evidence/verify/findings.js";
import { verifyStore } from "../../../src/evidence/verify/store.js";
import { sealedRecords, type SealedStore } from "../../support/sealed-records.js";
import { storeSampleEvent } from "../../support/events.js";

/*
 * Issue 21, item 1: `verify --store` proves every byte. A demo-sized store (sealed records with
 * real JWS, CMS, signed PDF, review package, policy and seal object, plus an event entry and
 * two signed checkpoints) has one byte flipped at several seeded random offsets of EVERY file
 * under ledger/ and objects/, one flip at a time; each flip must be reported, naming the entry,
 * checkpoint or object it is in. index/ is a derived cache (sealed.jsonl is rebuilt from the
 * ledger's record entries and seal objects: SealIndex.restore; review-pdfs.jsonl only labels
 * warnings), so it is not part of the proof and is not flipped.
 */

const RECORDS = 4;
const OFFSETS = 3;

let s: SealedStore;
let files: string[];

async function walk(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...(await walk(p)));
    else out.push(p);
  }
  return out;
}

beforeAll(async () => {
  s = await sealedRecords(RECORDS);
  // An event entry (a signed event naming nothing) and a checkpoint over it.
  const store = new FsObjectStore(s.root);
  const event = await storeSampleEvent(store);
  const ledger = await FileLedger.open(join(s.root, "ledger"));
  await ledger.append({ kind: "event", object: event });
  await ledger.checkpoint(s.signer);
  await ledger.close();
  files = [...(await walk(join(s.root, "ledger"))), ...(await walk(join(s.root, "objects")))];
}, 600_000);

/** A deterministic stream of numbers (a seeded LCG), so a failure is reproducible. */
function seeded(seed: number) {
  let x = seed >>> 0;
  return (n: number) => {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    return x % n;
  };
}

/** Which line of `bytes` holds byte `at` (a newline belongs to the line it ends). */
const lineOf = (bytes: Buffer, at: number) => {
  let n = 0;
  for (let i = 0; i < at; i++) if (bytes[i] === 10) n++;
  return n;
};

/** Whether the findings name the flipped place. */
function named(path: string, bytes: Buffer, at: number, findings: Finding[]): boolean {
  const rel = relative(s.root, path);
  if (rel.startsWith("objects/")) {
    const digest = `sha256:${rel.split("/").slice(2).join("")}`;
    return findings.some((f) => f.where.object === digest);
  }
  if (rel === "ledger/entries.log") {
    const line = lineOf(bytes, at);
    if (findings.some((f) => f.where.entry === line)) return true;
    // The last line has no successor whose prev pins it: a change that keeps it canonical (a
    // digit of its time) is caught by the checkpoint that signs it, and named so.
    const last = line === bytes.subarray(0, -1).toString("latin1").split("\n").length - 1;
    return last && findings.some((f) => f.code === "CHECKPOINT_ROOT_MISMATCH");
  }
  if (rel === "ledger/checkpoints.log") return findings.some((f) => f.where.checkpoint === lineOf(bytes, at));
  // ORIGIN is the log's name in every checkpoint: a change shows as each checkpoint refused.
  if (rel === "ledger/ORIGIN") return findings.some((f) => f.where.checkpoint !== undefined);
  throw new Error(`a file the test does not know: ${rel}`);
}

describe("verify --store: a flipped byte anywhere under ledger/ and objects/ is reported and named", () => {
  it("passes the untouched store without findings or warnings", async () => {
    const r = await verifyStore(await verifyParts(s.root), { trust: s.trust });
    expect(r.findings).toEqual([]);
    expect(r.warnings).toEqual([]);
    expect(r).toMatchObject({ entries: RECORDS + 1, checkpoints: 2, legacyRecords: 0 });
    expect(files.length).toBeGreaterThan(RECORDS * 10);
  });

  it(`reports each of ${OFFSETS} flips in every file, naming its entry, checkpoint or object`, async () => {
    const rand = seeded(21);
    const missed: string[] = [];
    let flips = 0;
    for (const path of files) {
      const original = await readFile(path);
      const mode = (await stat(path)).mode;
      await chmod(path, 0o644);
      try {
        for (let k = 0; k < OFFSETS; k++) {
          const at = rand(original.length);
          const flipped = Buffer.from(original);
          flipped[at]! ^= 1 + rand(255);
          await writeFile(path, flipped);
          const r = await verifyStore(await verifyParts(s.root), { trust: s.trust });
          flips++;
          if (!named(path, original, at, r.findings))
            missed.push(
              `${relative(s.root, path)} @${at}: ${JSON.stringify(r.findings.map((f) => [f.code, f.where]))}`,
            );
        }
      } finally {
        await writeFile(path, original);
        await chmod(path, mode & 0o777);
      }
    }
    expect(missed).toEqual([]);
    expect(flips).toBe(files.length * OFFSETS);
    console.log(
      `${flips} flips in ${files.length} files under ledger/ and objects/: every one reported and named`,
    );
  }, 900_000);
});
