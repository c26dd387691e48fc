import { performance } from "node:perf_hooks";
import { renderRecordPdf } from "../../src/render/pdf/record-pdf.js";
import { pdfInput } from "../render/pdf/fixture.js";

/*
 * Not a benchmark of its own (no peer to run beside it): the seal benchmark's PDF step alone, for
 * profiling and before/after comparisons. Renders N unsigned record PDFs (4 approvers in four
 * scripts, a 300x300 PNG, each with its own digest) in one thread after 30 warm-up renders and
 * prints wall and CPU milliseconds per PDF. `node dist/bench/test/bench/render-pdf.js [N]`
 * after `npx tsc -p tsconfig.bench.json`; add `--cpu-prof` to see where the time goes.
 */

const n = Number(process.argv[2] ?? 300);
const inputs = Array.from({ length: n }, (_, i) => ({
  ...pdfInput({ approvals: 4 }),
  digest: `sha256:${(i.toString(16) + "ab".repeat(40)).slice(0, 64)}`,
}));
for (let i = 0; i < 30; i++) await renderRecordPdf(inputs[i % n]!);
const cpu0 = process.cpuUsage();
const t0 = performance.now();
let bytes = 0;
for (const input of inputs) bytes += (await renderRecordPdf(input)).length;
const cpu = process.cpuUsage(cpu0);
process.stdout.write(
  `${JSON.stringify({
    pdfs: n,
    msPerPdf: (performance.now() - t0) / n,
    cpuMsPerPdf: (cpu.user + cpu.system) / 1000 / n,
    bytesPerPdf: Math.round(bytes / n),
  })}\n`,
);
