import { mkdtemp, rm } from "node:fs/promises";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
import { Ledger } from "../../src/ledger/ledger.js";
import { verifyStore } from "../../src/verify/store.js";
import {
  type BenchResult,
  benchPki,
  CACHE,
  machine,
  peakRssMb,
  QUICK,
  repeat,
  row,
  RUNS,
  type Run,
  timeNodeChild,
} from "./lib.js";

/*
 * Benchmark 3: seal throughput. Sealing threads (seal-worker.ts) do the CPU work of each
 * record: store the approval assertions and the policy, assemble the RFC 8785 record, store it,
 * JWS, CMS, render and PAdES-sign the PDF, store it; the main thread appends each record to the
 * ledger (fsynced). Not included: reading MLflow, verifying the approvers' signatures, the seal
 * index and the registry tags (network round trips, measured by the reconcile benchmark).
 */

const SCRIPT = fileURLToPath(import.meta.url);
const WORKER = join(import.meta.dirname, "seal-worker.js");

/** Where the time goes (node --cpu-prof of a sealing thread, 5 records), and what would fix it. */
const PROFILE = [
  "Session 3 (21 Nov 2026, in src/pdf): 0.52 records/s on 1 thread and 0.72 on 2 before, 5.0 and 7.3 after: fonts subset once from the input's characters (no second layout pass), text measured once per string, `wrap` summing word widths, the PNG's IDAT embedded as it is, fonts and attachments deflated by zlib.",
  "Session 4 (same day, quiet machine; `SEALGATE_BENCH_RUNS=1 npm run bench -- seal` before): 8.5 records/s on 1 thread, 9.0 on 2, 40 without the PDF. Fixed: CMS signatures write their fixed DER directly instead of building pkijs/asn1js trees (6.4 ms to 0.24 ms each, byte-identical; src/sign/der.ts); an object already stored costs one stat and new objects are created read-only (no chmod); the record, JWS, CMS and PDF writes overlap (storeSealedRecord, which this benchmark now calls); pdf-lib no longer parses each font subset again per document, and text runs and each code point's font are remembered across documents (an unsigned record PDF: 42 ms to 25 ms). The PDF bytes are unchanged (pinned by test/pdf/record-pdf.test.ts), because export finds a stored review PDF by rendering it again.",
  "Session 5 (same day, a faster instance of the same machine type: before any change, the code of session 4 measured 36.8 records/s on 1 thread, 33.0 on 2 and 131 without the PDF here, against 14.2, 20.6 and 72 last session). Export now finds review PDFs by the digest `sealgate review` records, or else by the document ID stored PDFs carry, never by rendering them again, so the PDF bytes may change. Then: page content deflated by zlib instead of pako (35.4, 37.5, 143: within run-to-run noise); text encoded and measured one glyph per character, looked up once per font subset and character, instead of fontkit laying out every new string, with HarfBuzz shaping the runs that need it (the layout's share of a sealing thread's CPU fell from 33% to 26%; fontkit used to throw on Devanagari). Runs now seal 150 records (60 were too short to tell changes from noise); a 2,000-record run on 1 thread reaches 48 records/s once the JIT has warmed up.",
  "Profile of one sealing thread now (`node --cpu-prof`, 200 records, samples of the thread itself): building the PDF with pdf-lib (the template's layout and pdf-lib's drawing operators) 26%, pdf-lib serialising and zlib deflating 9%, garbage collection 8%, module loading at start 6%, the object store 4%, both signatures 2%, idle waiting on fsync 17%. The process's CPU (the CPU s column) also counts libuv's pool: fsync, hashing and signing.",
  "Why 200 records/s is not met: it leaves 10 ms of CPU per record on 2 cores; a record costs about 37 ms (the CPU s column over 150 records, 1 thread), and a second sealing thread adds CPU per record rather than throughput, since one thread already keeps about 1.4 cores busy. Without the PDF, sealing runs at the rate of row 3. The rest is pdf-lib's object model: meeting the target needs a PDF writer that fills a precompiled page template with pre-measured glyph runs. Its one blocker, export depending on the exact bytes, is gone (see above); the writer itself is the next step.",
  "Why RSS is over: each sealing thread loads its own modules (about 70 MB), HarfBuzz's WebAssembly memory for subsetting (never returned), and here the 10 MB CJK font (about 55 MB parsed and subset), because the sample record has a CJK approver and the template's →, ≥ and ≤ exist only in that font. With one sealing thread the process peaks at 307 MB after 60 records, 376 MB after 600 and 395 MB after 2,000 (`node dist/bench/test/bench/seal.js --child DIR 1 N pdf`): V8's heap grows with the run, by less and less.",
];

type Reply = { ready: true } | { n: number; digest: string } | { n: number; error: string };

async function child(root: string, threads: number, count: number, pdf: boolean) {
  const { pki } = await benchPki();
  const ledger = await Ledger.open(join(root, "ledger"));
  const workers = Array.from(
    { length: threads },
    () =>
      new Worker(WORKER, { workerData: { store: root, key: pki.sealing.key, cert: pki.sealing.cert, pdf } }),
  );
  const replies = workers.map((w) => {
    const queue: Reply[] = [];
    const waiting: ((r: Reply) => void)[] = [];
    w.on("message", (r: Reply) => (waiting.length ? waiting.shift()!(r) : queue.push(r)));
    w.on("error", (err) => {
      throw err;
    });
    return () =>
      new Promise<Reply>((resolve) => (queue.length ? resolve(queue.shift()!) : waiting.push(resolve)));
  });
  let next = 0;
  // Each thread seals one record at a time and asks for the next as it answers.
  const drive = async (w: number, upTo: number) => {
    while (next < upTo) {
      workers[w]!.postMessage(next++);
      const r = await replies[w]!();
      if ("error" in r) throw new Error(r.error);
      if ("digest" in r) await ledger.append(r.digest as never);
    }
  };
  await Promise.all(replies.map((reply) => reply()));
  // Warm-up: one record per thread (fonts parsed, code compiled), sealed but not timed.
  await Promise.all(workers.map((_, w) => drive(w, threads)));
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  await Promise.all(workers.map((_, w) => drive(w, threads + count)));
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  await Promise.all(workers.map((w) => w.terminate()));
  await ledger.close();
  const maxRssMb = peakRssMb();
  // Everything sealed is really there: each record and the objects it names, chained.
  const check = await verifyStore(root);
  process.stdout.write(
    `${JSON.stringify({ seconds, cpuSeconds: (cpu.user + cpu.system) / 1e6, maxRssMb, entries: check.entries, findings: check.findings.length })}\n`,
  );
}

export async function benchSeal(): Promise<BenchResult> {
  const m = machine();
  const count = Number(process.env.SEALGATE_BENCH_SEAL_RECORDS ?? (QUICK ? 10 : 150));
  await benchPki();
  const measure = (threads: number, pdf: boolean, records: number) => async (): Promise<Run> => {
    const root = await mkdtemp(join(CACHE, "seal-"));
    try {
      const r = await timeNodeChild(SCRIPT, [root, String(threads), String(records), pdf ? "pdf" : "no-pdf"]);
      if (r.report?.entries !== records + threads || r.report?.findings !== 0)
        throw new Error(`the sealed store does not verify: ${JSON.stringify(r.report)}`);
      return r;
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  };
  const noPdfCount = count * 10;
  const one = await repeat("seal, 1 thread", RUNS, measure(1, true, count));
  const two = await repeat("seal, 2 threads", RUNS, measure(2, true, count));
  const bare = await repeat("seal without PDF, 2 threads", RUNS, measure(2, false, noPdfCount));
  m.loadAfter = machine().loadBefore;
  const r1 = row("seal on 1 sealing thread", one, count, "records/s");
  const r2 = row("seal on 2 sealing threads (2 cores)", two, count, "records/s");
  const r3 = row(
    `the same without the PDF, 2 threads (${noPdfCount} records)`,
    bare,
    noPdfCount,
    "records/s",
  );
  // Both rows run on the same 2 cores (one sealing thread also keeps libuv's pool busy with
  // fsync, hashing and signing): the targets are judged on the faster of the two.
  const best = r2.value >= r1.value ? r2 : r1;
  return {
    name: "seal",
    title: "Seal throughput (assemble + sign + PDF + append)",
    command: "npm run bench -- seal",
    machine: m,
    workload: `${count} records per run, each with 4 approvals (material tier), a 300x300 PNG explanation, ECDSA P-256 sealing key; per record: 9 fsynced store puts (4 assertions, policy, record, JWS, CMS, PDF), JWS and CMS signatures, the PDF rendered (fonts subset, 6 attachments) and PAdES-signed, an fsynced ledger append; the store verified after each run (objects re-hashed, zero findings)`,
    rows: [r1, r2, r3],
    targets: [
      {
        target: ">= 200 records/s on 2 cores",
        measured: `${best.value.toFixed(1)} records/s (${best.what})`,
        met: best.value >= 200,
      },
      {
        target: "peak RSS < 256 MB",
        measured: `${best.maxRssMb.toFixed(0)} MB (${best.what})`,
        met: best.maxRssMb < 256,
      },
    ],
    notes: [
      "Not included: reading MLflow, verifying the approvers' signatures, the seal index and the registry tags (network round trips).",
      ...PROFILE,
    ],
  };
}

if (process.argv[1] === SCRIPT && process.argv[2] === "--child") {
  await child(process.argv[3]!, Number(process.argv[4]), Number(process.argv[5]), process.argv[6] === "pdf");
}
