import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import * as prettier from "prettier";
import { REPO_ROOT } from "../../src/dev/venv.js";
import { benchGate } from "./gate.js";
import { benchHashLocal } from "./hash-local.js";
import { benchHashMlflow } from "./hash-mlflow.js";
import { benchLedgerVerify } from "./ledger-verify.js";
import { benchPush } from "./push.js";
import { benchReconcile } from "./reconcile.js";
import { benchSeal } from "./seal.js";
import { benchVerifyStore } from "./verify-store.js";
import { type BenchResult, describeMachine, machine, QUICK } from "./lib.js";

/*
 * `npm run bench [-- NAME...]`: run the benchmarks (all, or the named ones), print each result
 * and replace its section in test/bench/RESULTS.md. Not part of `npm test`.
 */

const BENCHES: Record<string, () => Promise<BenchResult>> = {
  "hash-local": benchHashLocal,
  "ledger-verify": benchLedgerVerify,
  seal: benchSeal,
  reconcile: benchReconcile,
  "hash-mlflow": benchHashMlflow,
  push: benchPush,
  "verify-store": benchVerifyStore,
  gate: benchGate,
};

const fmt = (n: number) => (n >= 100 ? n.toFixed(0) : n >= 10 ? n.toFixed(1) : n.toFixed(2));

export function toMarkdown(r: BenchResult): string {
  const lines = [
    `### ${r.title}`,
    "",
    `Machine: ${describeMachine(r.machine)}. Workload: ${r.workload}. Reproduce: \`${r.command}\`` +
      (QUICK ? " (SEALGATE_BENCH_QUICK=1: small sizes)." : ".") +
      ` Median of ${Math.max(...r.rows.map((x) => x.seconds.length))} run(s).`,
    "",
    "| contender | median | runs (s) | CPU s (median) | peak RSS |",
    "| --- | --- | --- | --- | --- |",
    ...r.rows.map(
      (x) =>
        `| ${x.what} | ${fmt(x.value)} ${x.unit} | ${x.seconds.map((s) => s.toFixed(2)).join(", ")} | ${x.cpuSeconds?.toFixed(2) ?? "—"} | ${x.maxRssMb.toFixed(0)} MB |`,
    ),
    // A regression figure (seal) has no target table: its rows are the figure.
    ...(r.targets.length
      ? [
          "",
          "| target | measured | met |",
          "| --- | --- | --- |",
          ...r.targets.map((t) => `| ${t.target} | ${t.measured} | ${t.met ? "yes" : "**no**"} |`),
        ]
      : []),
    ...(r.notes.length ? ["", ...r.notes.map((n) => `- ${n}`)] : []),
  ];
  return lines.join("\n");
}

/** Replace (or append) the section between this benchmark's markers. */
async function record(r: BenchResult) {
  const path = join(REPO_ROOT, "test/bench/RESULTS.md");
  const text = await readFile(path, "utf8").catch(() => "# Benchmark results\n");
  const begin = `<!-- bench:${r.name} -->`;
  const end = `<!-- /bench:${r.name} -->`;
  const section = `${begin}\n\n${toMarkdown(r)}\n\n${end}`;
  const re = new RegExp(`${begin}[\\s\\S]*?${end}`);
  const updated = re.test(text) ? text.replace(re, section) : `${text.trimEnd()}\n\n${section}\n`;
  // Formatted as `npm test`'s prettier check expects, so a fresh result never fails the lint.
  const options = (await prettier.resolveConfig(path)) ?? {};
  await writeFile(path, await prettier.format(updated, { ...options, parser: "markdown" }));
}

const wanted = process.argv.slice(2);
for (const name of wanted)
  if (!BENCHES[name]) throw new Error(`unknown benchmark ${name}; one of ${Object.keys(BENCHES).join(", ")}`);
process.stderr.write(`machine: ${describeMachine(machine())}\n`);
let failed = 0;
for (const [name, bench] of Object.entries(BENCHES)) {
  if (wanted.length && !wanted.includes(name)) continue;
  process.stderr.write(`\n== ${name}\n`);
  const result = await bench();
  process.stdout.write(`\n${toMarkdown(result)}\n`);
  await record(result);
  failed += result.targets.filter((t) => !t.met).length;
}
process.stderr.write(`\n${failed} target(s) missed; results in test/bench/RESULTS.md\n`);
