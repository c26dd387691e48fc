import { createCipheriv, randomBytes } from "node:crypto";
import { createWriteStream, existsSync } from "node:fs";
import { mkdir, rm, writeFile } from "node:fs/promises";
import { availableParallelism } from "node:os";
import { join } from "node:path";
import { pipeline } from "node:stream/promises";
import { fileURLToPath } from "node:url";
import { buildManifest, hashLocalModel } from "../../src/source/digest/model.js";
import { VENV_PYTHON, REPO_ROOT } from "../../src/dev/venv.js";
import {
  type BenchResult,
  CACHE,
  machine,
  QUICK,
  repeat,
  report,
  row,
  RUNS,
  type Run,
  timeNodeChild,
  timePeer,
} from "./lib.js";

/*
 * Benchmark 1: the content digest of a local multi-file model (hashLocalModel, files hashed in
 * parallel on worker threads) against the limit, sha256sum's single-core throughput times the
 * cores used, measured in the same run; against sha256sum on two processes; and against the
 * OpenSSF model_signing tool computing the same digest. All three must agree on the digest.
 */

const SCRIPT = fileURLToPath(import.meta.url);
const FILES = 8;
const DEFAULT_BYTES = QUICK ? 256 * 2 ** 20 : 4 * 2 ** 30;

/** 8 shards of pseudo-random bytes (AES-CTR keystream: incompressible, fast to make), made once. */
async function ensureModel(totalBytes: number): Promise<{ dir: string; files: string[] }> {
  const dir = join(CACHE, `model-${totalBytes}`);
  const files = Array.from(
    { length: FILES },
    (_, i) => `model-${String(i + 1).padStart(5, "0")}-of-${String(FILES).padStart(5, "0")}.safetensors`,
  );
  if (existsSync(`${dir}.complete`)) return { dir, files };
  process.stderr.write(`  generating ${FILES} files, ${totalBytes} bytes in total, into ${dir} (once)\n`);
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  const per = Math.floor(totalBytes / FILES);
  for (const name of files) {
    const cipher = createCipheriv("aes-128-ctr", randomBytes(16), randomBytes(16));
    const zeros = Buffer.alloc(4 << 20);
    async function* keystream() {
      for (let left = per; left > 0; left -= zeros.length)
        yield cipher.update(zeros.subarray(0, Math.min(left, zeros.length)));
    }
    await pipeline(keystream(), createWriteStream(join(dir, name)));
  }
  await writeFile(`${dir}.complete`, "");
  return { dir, files };
}

/** The root digest from `sha256sum` lines, by the same ordering rule as model_signing. */
function rootFromSha256sum(stdout: string, dir: string): string {
  const files = stdout
    .trim()
    .split("\n")
    .map((line) => {
      const m = /^([0-9a-f]{64}) [ *](.+)$/.exec(line);
      if (!m) throw new Error(`unexpected sha256sum line: ${line}`);
      return { name: m[2]!.slice(dir.length + 1), size: 0, digest: m[1]! };
    });
  return buildManifest(files).root;
}

export async function benchHashLocal(): Promise<BenchResult> {
  const m = machine();
  const total = Number(process.env.SEALGATE_BENCH_MODEL_BYTES ?? DEFAULT_BYTES);
  const { dir, files } = await ensureModel(total);
  const paths = files.map((f) => join(dir, f));
  const cores = availableParallelism();
  const omsScript = join(REPO_ROOT, "test/source/digest/oms_digest.py");
  // Warm the page cache so every contender reads from memory, not from whoever read first.
  await timePeer("sha256sum", paths);

  const runs = {
    ours: [] as Run[],
    single: [] as Run[],
    parallel: [] as Run[],
    openssl: [] as Run[],
    oms: [] as Run[],
  };
  const roots = new Set<string>();
  // Interleaved, so a burst of load from other users hits every contender alike.
  for (let i = 0; i < RUNS; i++) {
    const [ours] = await repeat("sealgate hashLocalModel", 1, () => timeNodeChild(SCRIPT, [dir]));
    roots.add(String(ours!.report?.root));
    runs.ours.push(ours!);
    const [single] = await repeat("sha256sum, 1 process", 1, () => timePeer("sha256sum", paths));
    roots.add(rootFromSha256sum(single!.stdout, dir));
    runs.single.push(single!);
    const [par] = await repeat(`sha256sum, ${cores} processes`, 1, () =>
      timePeer("sh", ["-c", `printf '%s\\0' "$@" | xargs -0 -n 1 -P ${cores} sha256sum`, "sh", ...paths]),
    );
    roots.add(rootFromSha256sum(par!.stdout.split("\n").sort().join("\n"), dir));
    runs.parallel.push(par!);
    // sha256sum (coreutils) may not use the CPU's SHA extensions; OpenSSL, like Node, does.
    const [ossl] = await repeat("openssl dgst -sha256, 1 process", 1, () =>
      timePeer("openssl", ["dgst", "-sha256", "-r", ...paths]),
    );
    roots.add(rootFromSha256sum(ossl!.stdout, dir));
    runs.openssl.push(ossl!);
    const [py] = await repeat("model_signing", 1, () => timePeer(VENV_PYTHON, [omsScript, dir]));
    roots.add(`sha256:${(JSON.parse(py!.stdout) as { root: string }).root}`);
    runs.oms.push(py!);
  }
  m.loadAfter = machine().loadBefore;
  if (roots.size !== 1) throw new Error(`the contenders disagree on the digest: ${[...roots].join(", ")}`);

  const mb = total / 2 ** 20;
  const ours = row(`sealgate hashLocalModel (${cores} worker threads)`, runs.ours, mb, "MB/s");
  const single = row("sha256sum, 1 process (single-core throughput)", runs.single, mb, "MB/s");
  const parallel = row(`sha256sum, ${cores} processes (xargs -P ${cores})`, runs.parallel, mb, "MB/s");
  const openssl = row(
    "openssl dgst -sha256, 1 process (single-core, SHA extensions)",
    runs.openssl,
    mb,
    "MB/s",
  );
  const oms = row("model_signing 1.1.1 (Python, incl. ~1 s start-up)", runs.oms, mb, "MB/s");
  const limit = single.value * cores;
  return {
    name: "hash-local",
    title: "Model content hashing, local files",
    command: "npm run bench -- hash-local",
    machine: m,
    workload: `${FILES} files, ${(mb / 1024).toFixed(2)} GiB of random bytes, from the page cache (warmed first); root digest ${[...roots][0]} agreed by all`,
    rows: [ours, single, parallel, openssl, oms],
    targets: [
      {
        target: `>= 0.9x the limit (sha256sum single-core x ${cores} cores = ${limit.toFixed(0)} MB/s)`,
        measured: `${(ours.value / limit).toFixed(2)}x`,
        met: ours.value >= 0.9 * limit,
      },
      {
        target: "faster than model_signing on the same files",
        measured: `${(ours.value / oms.value).toFixed(2)}x model_signing`,
        met: ours.value > oms.value,
      },
      { target: "peak RSS < 256 MB", measured: `${ours.maxRssMb.toFixed(0)} MB`, met: ours.maxRssMb < 256 },
    ],
    notes: [
      `A stricter limit than the target's: OpenSSL's single-core throughput x ${cores} = ${(openssl.value * cores).toFixed(0)} MB/s; sealgate reaches ${(ours.value / (openssl.value * cores)).toFixed(2)}x of it.`,
      "Before (21 Nov 2026, this AMD EPYC machine, same command): 1388 MB/s, 5.32 CPU s, 0.94x model_signing (missed). The hash threads read 1 MiB at a time, more than the core's L2 cache, so every byte left the cache between the copy from the page cache and the hash; at 128 KiB the same files take 3.4 CPU s instead of 5.5 (src/source/digest/hash-pool.ts).",
    ],
  };
}

if (process.argv[1] === SCRIPT && process.argv[2] === "--child") {
  await report(async () => ({ root: (await hashLocalModel(process.argv[3]!)).root }));
}
