import { createHash } from "node:crypto";
import { createWriteStream, existsSync } from "node:fs";
import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { once } from "node:events";
import { availableParallelism } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { verifyParts } from "../../src/app/store.js";
import { sampleRecord } from "../../src/dev/sample-record.js";
import { FileLedger } from "../../src/evidence/ledger/file-ledger.js";
import { entryLine, GENESIS, sha256hex } from "../../src/evidence/ledger/ledger.js";
import { FsObjectStore } from "../../src/evidence/store/fs-store.js";
import { verifyStore } from "../../src/evidence/verify/store.js";
import { recordBytes } from "../../src/record/schema.js";
import { SEAL_TYPE, sealBytes } from "../../src/record/seal.js";
import type { Digest } from "../../src/core/digest.js";
import { sealedRecords } from "../support/sealed-records.js";
import {
  type BenchResult,
  benchPki,
  CACHE,
  machine,
  QUICK,
  repeat,
  report,
  row,
  RUNS,
  timeNodeChild,
  timePeer,
} from "./lib.js";

/*
 * Issue 21: `verify --store` over every byte of a store of 10,000 sealed records with their
 * PDFs: every object re-hashed, every reference followed, every entry chained, the checkpoint
 * checked. Against the machine's SHA-256 limit over the same bytes, measured in the same run:
 * `openssl dgst -sha256` over every object file in one process, times the cores (and, for
 * reference, the same in one process per core). Second figure: ledger entries per second on a
 * long v2 ledger with objects off, as `verify --no-objects` runs.
 *
 * The store is generated directly (writing 110,000 fsynced objects through the API would take
 * long): one real sealed record (real approval JWS, record JWS, CMS, signed PDF) from the test
 * fixture, its bytes varied minimally per record so every object is distinct and real-sized,
 * each record's own RFC 8785 bytes and seal object, and v2 ledger lines per FORMAT.md.
 */

const SCRIPT = fileURLToPath(import.meta.url);

/** One object file written as the file store lays it out (no fsync: a generated input). */
async function putRaw(root: string, bytes: Uint8Array): Promise<Digest> {
  const hex = createHash("sha256").update(bytes).digest("hex");
  await writeFile(join(root, "objects", "sha256", hex.slice(0, 2), hex.slice(2)), bytes, { mode: 0o444 });
  return `sha256:${hex}`;
}

/** The real objects of one sealed record, to vary. */
async function template() {
  const s = await sealedRecords(1);
  const store = new FsObjectStore(s.root);
  const line = (await readFile(join(s.root, "ledger", "entries.log"), "utf8")).split("\n")[0]!;
  const entry = JSON.parse(line) as { object: Digest; seal: Digest };
  const seal = JSON.parse(Buffer.from(await store.get(entry.seal)).toString()) as Record<string, Digest>;
  const rec = JSON.parse(Buffer.from(await store.get(entry.object)).toString()) as ReturnType<
    typeof sampleRecord
  >;
  const get = async (d: string) => Buffer.from(await store.get(d as Digest));
  return {
    pdf: await get(seal.pdf!),
    cms: await get(seal.cms!),
    jws: await get(seal.jws!),
    approval: await get(rec.approvals[0]!.assertion),
    png: await get(rec.explanation.object),
  };
}

async function ensureStore(records: number): Promise<string> {
  const root = join(CACHE, `verify-store-${records}`);
  if (existsSync(`${root}.complete`)) return root;
  process.stderr.write(`  writing a store of ${records} sealed records into ${root} (once)\n`);
  const t = await template();
  const { signer } = await benchPki();
  await rm(root, { recursive: true, force: true });
  for (let i = 0; i < 256; i++)
    await mkdir(join(root, "objects", "sha256", i.toString(16).padStart(2, "0")), { recursive: true });
  await mkdir(join(root, "ledger"), { recursive: true });
  const out = createWriteStream(join(root, "ledger", "entries.log"));
  const policy = await putRaw(root, Buffer.from("version: bench\nroles: []\n"));
  // Each object varied by a suffix, so it is distinct but of its real size.
  const vary = (b: Buffer, i: number, what: string) => Buffer.concat([b, Buffer.from(`\n%${what} ${i}\n`)]);
  let prev = GENESIS;
  const t0 = Date.parse("2026-12-05T00:00:00.000Z");
  for (let i = 0; i < records; i++) {
    const r = sampleRecord();
    r.model.version = String(i + 1);
    r.cycle = { number: 1, previous: null, changes: [] };
    r.model.manifest = await putRaw(root, Buffer.from(`{"files":[{"name":"model.pkl","seed":${i}}]}`));
    r.request.object = await putRaw(root, Buffer.from(`request text for record ${i}`));
    r.explanation = { ...r.explanation, object: await putRaw(root, vary(t.png, i, "png")) };
    r.modelCard!.object = await putRaw(root, Buffer.from(`intendedUse: bench ${i}\n`));
    r.approvals[0]!.assertion = await putRaw(root, vary(t.approval, i, "approval"));
    r.package = await putRaw(root, Buffer.from(`{"package":${i},"type":"sealgate.review-package/1"}`));
    r.policy.digest = policy;
    const record = await putRaw(root, recordBytes(r));
    const seal = await putRaw(
      root,
      sealBytes({
        type: SEAL_TYPE,
        record,
        jws: await putRaw(root, vary(t.jws, i, "jws")),
        cms: await putRaw(root, vary(t.cms, i, "cms")),
        pdf: await putRaw(root, vary(t.pdf, i, "pdf")),
        package: r.package as Digest,
        policy,
      }),
    );
    const time = new Date(t0 + i * 1000).toISOString();
    const line = entryLine({ seq: i, prev, kind: "record", object: record, seal, time });
    if (!out.write(Buffer.concat([line, Buffer.from("\n")]))) await once(out, "drain");
    prev = sha256hex(line);
  }
  out.end();
  await once(out, "close");
  const ledger = await FileLedger.open(join(root, "ledger"));
  await ledger.checkpoint(signer);
  await ledger.close();
  await writeFile(`${root}.complete`, "");
  return root;
}

/** A long v2 ledger (records and events alternating), for entries per second with objects off. */
async function ensureLedger(entries: number): Promise<string> {
  const root = join(CACHE, `ledger-v2-${entries}`);
  if (existsSync(`${root}.complete`)) return root;
  process.stderr.write(`  writing a ${entries}-entry v2 ledger into ${root} (once)\n`);
  const { signer } = await benchPki();
  await rm(root, { recursive: true, force: true });
  await mkdir(join(root, "ledger"), { recursive: true });
  const out = createWriteStream(join(root, "ledger", "entries.log"));
  let prev = GENESIS;
  const t0 = Date.parse("2026-12-05T00:00:00.000Z");
  for (let seq = 0; seq < entries; seq++) {
    const object = `sha256:${createHash("sha256").update(`object ${seq}`).digest("hex")}` as Digest;
    const time = new Date(t0 + seq).toISOString();
    const line =
      seq % 2
        ? entryLine({ seq, prev, kind: "event", object, time })
        : entryLine({ seq, prev, kind: "record", object, seal: object, time });
    if (!out.write(Buffer.concat([line, Buffer.from("\n")]))) await once(out, "drain");
    prev = sha256hex(line);
  }
  out.end();
  await once(out, "close");
  const ledger = await FileLedger.open(join(root, "ledger"));
  await ledger.checkpoint(signer);
  await ledger.close();
  await writeFile(`${root}.complete`, "");
  return root;
}

export async function benchVerifyStore(): Promise<BenchResult> {
  const m = machine();
  const records = Number(process.env.SEALGATE_BENCH_STORE_RECORDS ?? (QUICK ? 1_000 : 10_000));
  const entries = Number(process.env.SEALGATE_BENCH_LEDGER_ENTRIES ?? (QUICK ? 100_000 : 1_000_000));
  const root = await ensureStore(records);
  const ledgerRoot = await ensureLedger(entries);
  const cores = availableParallelism();
  // Warm the page cache, as for every contender.
  await timePeer("sh", ["-c", `cd ${root} && find objects -type f -print0 | xargs -0 cat > /dev/null`]);
  const ours: Awaited<ReturnType<typeof timeNodeChild>>[] = [];
  const single: Awaited<ReturnType<typeof timePeer>>[] = [];
  const parallel: Awaited<ReturnType<typeof timePeer>>[] = [];
  // Interleaved, so a change in the machine's load hits all three alike.
  for (let i = 0; i < RUNS; i++) {
    single.push(
      await timePeer("sh", [
        "-c",
        `cd ${root} && find objects -type f -print0 | xargs -0 -n 4096 openssl dgst -sha256 > /dev/null`,
      ]),
    );
    parallel.push(
      await timePeer("sh", [
        "-c",
        `cd ${root} && find objects -type f -print0 | xargs -0 -n 4096 -P ${cores} openssl dgst -sha256 > /dev/null`,
      ]),
    );
    const r = await timeNodeChild(SCRIPT, [root, "objects"]);
    process.stderr.write(
      `  run ${i + 1}/${RUNS}: verify ${r.seconds.toFixed(2)} s, openssl ${single[i]!.seconds.toFixed(2)} s (1 process), ${parallel[i]!.seconds.toFixed(2)} s (${cores})\n`,
    );
    ours.push(r);
  }
  const rep = ours[0]!.report as {
    bytes: number;
    objects: number;
    entries: number;
    findings: number;
    warnings: number;
  };
  for (const r of ours)
    if (
      (r.report as typeof rep).findings !== 0 ||
      (r.report as typeof rep).warnings !== 0 ||
      (r.report as typeof rep).entries !== records
    )
      throw new Error(`the verifier did not accept the store: ${JSON.stringify(r.report)}`);
  const mb = rep.bytes / 1e6;
  const verifyRow = row("sealgate verifyStore (every object, every reference)", ours, mb, "MB/s");
  const singleRow = row("openssl dgst -sha256, 1 process (single-core limit)", single, mb, "MB/s");
  const parallelRow = row(`openssl dgst -sha256, ${cores} processes`, parallel, mb, "MB/s");
  const limit = singleRow.value * cores;
  const ratio = verifyRow.value / limit;
  // The best wall time verify's CPU allows on these cores, as a ratio to the limit.
  const cpu = verifyRow.cpuSeconds ?? NaN;
  const bestRatio = mb / (cpu / cores) / limit;
  const ledgerRuns = await repeat("verifyStore --no-objects (v2 ledger)", RUNS, () =>
    timeNodeChild(SCRIPT, [ledgerRoot, "no-objects"]),
  );
  for (const r of ledgerRuns)
    if ((r.report as { entries: number; findings: number }).findings !== 0)
      throw new Error(`the verifier did not accept the ledger: ${JSON.stringify(r.report)}`);
  const ledgerRow = row("sealgate verifyStore --no-objects, v2 ledger", ledgerRuns, entries, "entries/s");
  m.loadAfter = machine().loadBefore;
  const peak = Math.max(verifyRow.maxRssMb, ledgerRow.maxRssMb);
  return {
    name: "verify-store",
    title: "Verify a store, every byte",
    command: "npm run bench -- verify-store",
    machine: m,
    workload: `${records} sealed records, ${rep.objects} objects, ${mb.toFixed(0)} MB (record, seal object, JWS, CMS, signed PDF of ~${(rep.bytes / records / 1e3).toFixed(0)} kB per record in all, package, approval, manifest, request, explanation, model card; one policy), a v2 ledger and a signed checkpoint; every run ended with zero findings and zero warnings. Second: a ${entries}-entry v2 ledger with objects off`,
    rows: [verifyRow, singleRow, parallelRow, ledgerRow],
    targets: [
      {
        target: `re-hash >= 0.7x the SHA-256 limit (openssl 1 process x ${cores} cores = ${limit.toFixed(0)} MB/s)`,
        measured: `${ratio.toFixed(2)}x (${verifyRow.value.toFixed(0)} MB/s)`,
        met: ratio >= 0.7,
      },
      {
        target: ">= 200,000 ledger entries/s",
        measured: `${Math.round(ledgerRow.value)} entries/s`,
        met: ledgerRow.value >= 200_000,
      },
      { target: "peak RSS < 256 MB", measured: `${peak.toFixed(0)} MB`, met: peak < 256 },
    ],
    notes: [
      `Against ${cores} openssl processes in parallel (${parallelRow.value.toFixed(0)} MB/s measured): ${(verifyRow.value / parallelRow.value).toFixed(2)}x.`,
      `CPU: verify ${cpu.toFixed(2)} s against openssl ${singleRow.cpuSeconds?.toFixed(2)} s for the same bytes. Spread perfectly over ${cores} cores, verify's CPU alone allows ${(cpu / cores).toFixed(2)} s, ${bestRatio.toFixed(2)}x the limit: on this machine the ratio is bounded by CPU, not by waiting.`,
      "Objects are listed and hashed on one worker thread per core, a store directory per step, each worker taking the next directory from a counter they share (FsObjectStore.hashEvery), so hashing never waits for the main thread; the records and seal objects the walk parses are read and hashed on the same workers, 128 entries per message, their bytes transferred (FsObjectStore.getMany). The main thread parses those (JSON.parse, zod), follows their references and chains the entries; the Merkle thread hashes the tree.",
      "What the CPU beyond hashing is (profiled, 10,000 records): the main thread's parsing, about 0.5 s (JSON.parse of the record and seal object 0.31 s, zod 0.16 s, the reference sets 0.05 s), which shares the cores with the hashing, and listing the store, 0.12 s. Records and seal objects the walk has read are not hashed again when the pass over the store reaches them (about 0.13 s of CPU if they were; the walk runs ahead, so most are skipped). Stores with larger PDFs per record come closer to the limit.",
      "Before the batched worker paths (issue 21 item 1), the same command on the same machine (Intel Xeon, 2 cores, load 0.94, 2026-12-05) measured 417 MB/s, 0.28x the limit measured in that run (1468 MB/s), 4.34 s of CPU, 227 MB peak RSS: the main thread was the bottleneck (each record and seal object read with four thread-pool round trips, 256 digests per message).",
      `Median over ${RUNS} interleaved run(s); wall figures on a shared machine: compare CPU seconds too.`,
    ],
  };
}

if (process.argv[1] === SCRIPT && process.argv[2] === "--child") {
  const { trust } = await benchPki();
  const objects = process.argv[4] === "objects";
  await report(async () => {
    const r = await verifyStore(await verifyParts(process.argv[3]!), { trust, objects });
    return {
      entries: r.entries,
      objects: r.objects,
      bytes: r.bytes,
      findings: r.findings.length,
      warnings: r.warnings.length,
      first: r.findings.slice(0, 3),
    };
  });
}
