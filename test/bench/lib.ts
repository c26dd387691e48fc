import { spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { readFile, rm } from "node:fs/promises";
import { availableParallelism, cpus, loadavg, totalmem } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { PYTHON_ENV, REPO_ROOT, VENV_PYTHON } from "../../src/dev/venv.js";
import { createDevPki, type DevPkiManifest } from "../../src/crypto/pki/dev-pki.js";
import { loadTrust, type Trust } from "../../src/crypto/pki/trust.js";
import type { KeySigner } from "../../src/crypto/sign/key-signer.js";
import { loadSigner } from "../../src/crypto/sign/load.js";

/*
 * What every benchmark shares: the machine it ran on, medians, and two ways to measure one
 * run in its own process (so peak RSS is that run's alone): a Node child that reports its
 * own time and peak RSS (peakRssMb), and a peer command under /usr/bin/time -v.
 */

/**
 * This process's peak RSS in MB, every thread included: the kernel's high-water mark of its
 * own memory (VmHWM). Not process.resourceUsage().maxRSS: Linux carries that across fork and
 * exec, so a child started by a parent holding 260 MB reported at least 260 MB however little
 * it used itself (measured: a child of a 400 MB parent reported 386 MB for a 43 MB VmHWM).
 */
export function peakRssMb(): number {
  const kb = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync("/proc/self/status", "utf8"))?.[1];
  if (!kb) throw new Error("no VmHWM in /proc/self/status: peak RSS is measured on Linux only");
  return Number(kb) / 1024;
}

/** Generated inputs (model files, ledgers, PKI) are made once and kept here between runs. */
export const CACHE = process.env.SEALGATE_BENCH_CACHE ?? "/tmp/sealgate-bench";
export const QUICK = process.env.SEALGATE_BENCH_QUICK === "1";
/** Runs per measurement; the median is reported (the machine is shared and noisy). */
export const RUNS = Number(process.env.SEALGATE_BENCH_RUNS ?? (QUICK ? 1 : 3));

export interface Machine {
  cpu: string;
  cores: number;
  node: string;
  memGb: number;
  /** 1-minute load average before and after the benchmark: other work shares the machine. */
  loadBefore: number;
  loadAfter?: number;
}

export function machine(): Machine {
  return {
    cpu: cpus()[0]?.model ?? "unknown",
    cores: availableParallelism(),
    node: process.version,
    memGb: Math.round(totalmem() / 2 ** 30),
    loadBefore: loadavg()[0]!,
  };
}

export const describeMachine = (m: Machine) =>
  `${m.cpu}, ${m.cores} cores, ${m.memGb} GB RAM, Node ${m.node}, load average ${m.loadBefore.toFixed(2)}` +
  (m.loadAfter !== undefined ? ` before / ${m.loadAfter.toFixed(2)} after` : "");

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

export interface Run {
  seconds: number;
  /** CPU seconds (user + system, all threads) when the run reported them. */
  cpuSeconds?: number;
  maxRssMb: number;
  stdout: string;
  /** What a Node child reported about its run (its last stdout line, JSON). */
  report?: Record<string, unknown>;
}

function exec(
  cmd: string,
  args: string[],
  env: NodeJS.ProcessEnv = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.once("error", reject);
    child.once("close", (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

/** Run a peer command under /usr/bin/time -v: wall time, CPU time (all its processes) and peak RSS (largest process). */
export async function timePeer(cmd: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<Run> {
  const t0 = performance.now();
  const r = await exec("/usr/bin/time", ["-v", cmd, ...args], env);
  const seconds = (performance.now() - t0) / 1000;
  if (r.code !== 0) throw new Error(`${cmd} ${args.join(" ")} exited ${r.code}:\n${r.stderr.slice(-2000)}`);
  const field = (name: string) => Number(new RegExp(`${name}: ([\\d.]+)`).exec(r.stderr)?.[1] ?? NaN);
  return {
    seconds,
    cpuSeconds: field("User time \\(seconds\\)") + field("System time \\(seconds\\)"),
    maxRssMb: field("Maximum resident set size \\(kbytes\\)") / 1024,
    stdout: r.stdout,
  };
}

/**
 * A Python peer script of test/bench, run in the venv and timed by its own report (its last
 * stdout line, JSON with `seconds`), so starting the interpreter and `import mlflow` do not count.
 */
export async function timePython(script: string, args: string[]): Promise<Run> {
  const r = await timePeer(VENV_PYTHON, [join(REPO_ROOT, "test/bench", script), ...args], PYTHON_ENV);
  const report = JSON.parse(r.stdout.trim().split("\n").pop()!) as Record<string, unknown>;
  // Its CPU time would include the interpreter and `import mlflow`: not comparable, left out.
  return { ...r, seconds: Number(report.seconds ?? r.seconds), cpuSeconds: undefined, report };
}

/**
 * Run one measurement in a fresh Node process: `script --child ...args`. The child times only
 * the work itself and ends by printing one JSON line with `seconds` and `maxRssMb` (see report).
 */
export async function timeNodeChild(
  script: string,
  args: string[],
  env: NodeJS.ProcessEnv = {},
): Promise<Run> {
  const r = await exec(process.execPath, [script, "--child", ...args], env);
  if (r.code !== 0)
    throw new Error(`${script} ${args.join(" ")} exited ${r.code}:\n${r.stderr.slice(-3000)}`);
  const last = r.stdout.trim().split("\n").pop() ?? "";
  const report = JSON.parse(last) as Record<string, unknown> & {
    seconds: number;
    cpuSeconds?: number;
    maxRssMb: number;
  };
  const { seconds, cpuSeconds, maxRssMb } = report;
  return { seconds, maxRssMb, stdout: r.stdout, report, ...(cpuSeconds !== undefined ? { cpuSeconds } : {}) };
}

/**
 * In a child: time `work`, then print the JSON line timeNodeChild reads, with what `after`
 * (not timed, e.g. a check of the result) adds.
 */
export async function report(
  work: () => Promise<Record<string, unknown>>,
  after: () => Promise<Record<string, unknown>> = async () => ({}),
): Promise<void> {
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  const extra = await work();
  const seconds = (performance.now() - t0) / 1000;
  // CPU time of every thread of this process: what the work costs however busy the machine is.
  const cpu = process.cpuUsage(cpu0);
  const cpuSeconds = (cpu.user + cpu.system) / 1e6;
  // The whole process, including everything loaded before the work.
  const maxRssMb = peakRssMb();
  process.stdout.write(
    `${JSON.stringify({ ...extra, ...(await after()), seconds, cpuSeconds, maxRssMb })}\n`,
  );
}

/** `times` runs of `one`, with progress on stderr. */
export async function repeat(label: string, times: number, one: () => Promise<Run>): Promise<Run[]> {
  const runs: Run[] = [];
  for (let i = 0; i < times; i++) {
    const r = await one();
    process.stderr.write(
      `  ${label} run ${i + 1}/${times}: ${r.seconds.toFixed(2)} s, ${r.maxRssMb.toFixed(0)} MB\n`,
    );
    runs.push(r);
  }
  return runs;
}

/** One line of a result table: a measured thing, its median and every run. */
export interface Row {
  what: string;
  /** Median throughput in `unit`. */
  value: number;
  unit: string;
  seconds: number[];
  /** Median CPU seconds per run, when measured. */
  cpuSeconds?: number;
  maxRssMb: number;
}

export function row(what: string, runs: Run[], work: number, unit: string): Row {
  return {
    what,
    value: work / median(runs.map((r) => r.seconds)),
    unit,
    seconds: runs.map((r) => r.seconds),
    ...(runs.every((r) => r.cpuSeconds !== undefined)
      ? { cpuSeconds: median(runs.map((r) => r.cpuSeconds!)) }
      : {}),
    maxRssMb: Math.max(...runs.map((r) => r.maxRssMb)),
  };
}

export interface BenchResult {
  name: string;
  title: string;
  /** The reproducing command. */
  command: string;
  machine: Machine;
  workload: string;
  rows: Row[];
  /** Each target: what it says, the measured figure, met or not. */
  targets: { target: string; measured: string; met: boolean }[];
  notes: string[];
}

/** A development PKI for the benchmarks, made once under the cache dir (same code as `pki init`). */
export async function benchPki(): Promise<{ pki: DevPkiManifest; trust: Trust; signer: KeySigner }> {
  const dir = join(CACHE, "pki");
  if (!existsSync(join(dir, "pki.json"))) {
    await rm(dir, { recursive: true, force: true });
    await createDevPki(dir);
  }
  const pki = JSON.parse(await readFile(join(dir, "pki.json"), "utf8")) as DevPkiManifest;
  const trust = await loadTrust({
    anchors: pki.trust.anchors,
    intermediates: pki.trust.intermediates,
    crls: [pki.trust.crl],
  });
  const signer = await loadSigner(
    { type: "pem", key: pki.sealing.key, cert: pki.sealing.cert },
    "bench.sealing",
  );
  return { pki, trust, signer };
}
