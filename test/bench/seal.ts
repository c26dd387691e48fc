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
  "Before the src/pdf fixes (same workload, 21 Nov 2026): 0.52 records/s on 1 thread and 0.72 on 2, 0.8 CPU s per record, peak RSS 303 and 493 MB; profile of a sealing thread (5 records, 16.3 s CPU): laying out the PDF 59% (fontkit shaping every candidate line in `wrap`, and every document laid out twice, once with full fonts to learn the characters used), garbage collection 10%, the PNG decoded and re-deflated by pdf-lib (pako) 11%, hb-subset 3%, CMS + JWS 3%.",
  "Fixed in src/pdf: fonts are subset once from the characters of the input's strings and the template (no first layout pass); text is measured and encoded with the embedded subsets once per string; `wrap` sums word widths (exact, at size 1000) for text in the main face and re-measures lines only for mixed scripts; the PNG's IDAT is embedded as it is; font and attachment streams are deflated by zlib, not pako; full fonts are parsed once per process, and the 10 MB CJK font only when a character needs it. The visible output is unchanged (pdftotext -layout and poppler's renders of the test records are identical).",
  "Profile of a sealing thread now (`node --cpu-prof`, 61 records, 6.7 s busy): laying out the PDF 24% (fontkit shaping each new word or run once 8%, drawing 10%), the two CMS signatures (record and PDF; asn1js/pkijs, in src/sign) 15%, garbage collection 7.5%, writing the PDF (pdf-lib's serialiser, pako for page content streams) 8%, subsetting and embedding fonts 3%, the PNG 1.5%, module loading at start 5%.",
  "200 records/s on 2 cores leaves 10 ms of CPU per record. Sealing without the PDF already costs about 24 ms (row 3), and rendering and signing the PDF with pdf-lib about 75 ms more, so the target cannot be met with a PDF rendered per record on the sealing path; the record does not name its PDF (only the seal index does), so a queue can render and sign PDFs off that path without changing the format. RSS: two sealing threads without the PDF already peak at about 255 MB (each worker loads its own copy of the modules); the PDF adds pdf-lib's garbage and HarfBuzz's WebAssembly memory, which never shrinks (about 20 MB more once the CJK font has been subset).",
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
  const count = Number(process.env.SEALGATE_BENCH_SEAL_RECORDS ?? (QUICK ? 10 : 20));
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
        measured: `${r2.value.toFixed(1)} records/s`,
        met: r2.value >= 200,
      },
      { target: "peak RSS < 256 MB", measured: `${r2.maxRssMb.toFixed(0)} MB`, met: r2.maxRssMb < 256 },
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
