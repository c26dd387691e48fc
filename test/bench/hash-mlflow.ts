import { mkdtemp, rm } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { proxiedPath } from "../../connectors/mlflow/artifacts.js";
import { MlflowClient } from "../../connectors/mlflow/client.js";
import { MlflowConfig } from "../../connectors/mlflow/config.js";
import { hashMlflowModel } from "../../connectors/mlflow/model-hash.js";
import { hashLocalModel } from "../../src/source/digest/model.js";
import { startMlflowServer } from "../../src/dev/mlflow-server.js";
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
  timePython,
} from "./lib.js";

/*
 * Benchmark 5: a model's content digest streamed from a real `mlflow server` through its
 * artifact proxy (hashMlflowModel: listed, downloaded and hashed, never written to disk) against
 * the plain download of the same artefacts with the MLflow Python client
 * (mlflow.artifacts.download_artifacts). The downloaded copy is hashed afterwards, outside the
 * clock, to check both saw the same bytes.
 */

const SCRIPT = fileURLToPath(import.meta.url);
const FILES = 4;

export async function benchHashMlflow(): Promise<BenchResult> {
  const m = machine();
  const total = Number(process.env.SEALGATE_BENCH_ARTIFACT_BYTES ?? (QUICK ? 64 * 2 ** 20 : 256 * 2 ** 20));
  process.stderr.write("  starting mlflow server\n");
  const server = await startMlflowServer();
  const work = await mkdtemp(join(CACHE, "artifacts-"));
  try {
    process.stderr.write(`  logging ${FILES} files, ${total} bytes, through the Python client\n`);
    const logged = await timePython("mlflow_artifacts.py", [
      "log",
      server.url,
      String(FILES),
      String(total),
      work,
    ]);
    await rm(join(work, "model"), { recursive: true, force: true });
    const runId = String(logged.report?.run_id);
    const root = `${proxiedPath(String(logged.report?.artifact_uri))}/model`;
    const ours: Run[] = [];
    const peer: Run[] = [];
    const roots = new Set<string>();
    for (let i = 0; i < RUNS; i++) {
      const [o] = await repeat("sealgate hashMlflowModel", 1, () =>
        timeNodeChild(SCRIPT, [server.url, root]),
      );
      roots.add(String(o!.report?.root));
      ours.push(o!);
      const dest = await mkdtemp(join(CACHE, "download-"));
      try {
        const [p] = await repeat("mlflow.artifacts.download_artifacts", 1, () =>
          timePython("mlflow_artifacts.py", ["download", server.url, runId, dest]),
        );
        roots.add((await hashLocalModel(join(dest, "model"))).root);
        peer.push(p!);
      } finally {
        await rm(dest, { recursive: true, force: true });
      }
    }
    m.loadAfter = machine().loadBefore;
    if (roots.size !== 1) throw new Error(`streamed and downloaded digests differ: ${[...roots].join(", ")}`);
    const mb = total / 2 ** 20;
    const streamed = row("sealgate hashMlflowModel (stream + SHA-256, nothing on disk)", ours, mb, "MB/s");
    const download = row("MLflow Python client download_artifacts (to disk, no hashing)", peer, mb, "MB/s");
    const ratio = download.value / streamed.value;
    return {
      name: "hash-mlflow",
      title: "Model hashing streamed from a real MLflow server",
      command: "npm run bench -- hash-mlflow",
      machine: m,
      workload: `mlflow server 3.17.2 with served artifacts on loopback, ${FILES} files, ${(mb / 1024).toFixed(2)} GiB of random bytes logged as run artifacts; root digest ${[...roots][0]} equal for the stream and the download`,
      rows: [streamed, download],
      targets: [
        { target: "<= 1.1x the plain download time", measured: `${ratio.toFixed(2)}x`, met: ratio <= 1.1 },
        {
          target: "peak RSS < 256 MB",
          measured: `${streamed.maxRssMb.toFixed(0)} MB`,
          met: streamed.maxRssMb < 256,
        },
      ],
      notes: [
        "Times are of the work alone: Node's module loading and Python's `import mlflow` are outside both clocks.",
      ],
    };
  } finally {
    await rm(work, { recursive: true, force: true });
    await server.stop();
  }
}

if (process.argv[1] === SCRIPT && process.argv[2] === "--child") {
  const client = new MlflowClient(
    MlflowConfig.parse({ trackingUri: process.argv[3]!, auth: { type: "none" } }),
  );
  await report(async () => ({ root: (await hashMlflowModel(client, process.argv[4]!)).root }));
  await client.close();
}
