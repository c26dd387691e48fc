import { subscribe } from "node:diagnostics_channel";
import { performance } from "node:perf_hooks";
import { cp, mkdir, mkdtemp, rm } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { CONNECTORS } from "../../connectors/index.js";
import { destinationSchema } from "../../src/app/config/destinations.js";
import { BUILTIN_FILES, unavailableFiles } from "../../src/delivery/engine/files.js";
import { pushOutbox } from "../../src/delivery/engine/engine.js";
import { startSimulators } from "../../src/dev/simulators.js";
import { createLogger } from "../../src/core/log.js";
import { loadSigner } from "../../src/crypto/sign/load.js";
import { loadMapping } from "../../src/delivery/mapping/compile.js";
import { sealedRecords } from "../support/sealed-records.js";
import { type BenchResult, CACHE, machine, QUICK, report, row, timeNodeChild } from "./lib.js";
import { parse as parseYaml } from "yaml";
import { readStore } from "../../src/app/store.js";

/*
 * Benchmark: push N sealed records to each of ServiceNow, Vanta and Archer (their simulators,
 * all three at once), each simulator enforcing LIMIT requests per minute and the destination's
 * queue set to the same limit, as an admin would set it to the vendor's. Each destination
 * pushes in its own process (its own peak RSS); the simulators run in this one. Measured: API
 * answers that were not 429, against what the limit permits in the time taken (LIMIT for every
 * started minute), and duplicates on the remote side (there must be none).
 */

const SCRIPT = fileURLToPath(import.meta.url);
const KINDS = ["servicenow", "vanta", "archer"] as const;
type Kind = (typeof KINDS)[number];

async function child(kind: string, storeRoot: string, limit: number) {
  const config = JSON.parse(process.env.SEALGATE_BENCH_DESTINATION!) as Record<string, unknown>;
  const module = CONNECTORS[kind]!;
  const logger = createLogger({ level: "silent" });
  const d = destinationSchema({ [kind]: module }).parse({ kind, ...config });
  const mapping = await loadMapping(module.defaultMappingPath, {
    destination: kind,
    target: module.target,
    unavailable: unavailableFiles(BUILTIN_FILES),
  });
  const sealing = JSON.parse(process.env.SEALGATE_BENCH_SIGNER!) as { key: string; cert: string };
  const signer = await loadSigner({ type: "pem", ...sealing }, "bench", {});
  const n = Number(process.env.SEALGATE_BENCH_PUSH_RECORDS);
  // Every HTTP answer, counted where undici reads it (token calls included: they count too).
  const answers: Record<string, number> = {};
  /** When each answer other than 429 arrived, in ms from the start of the work. */
  const accepted: number[] = [];
  let t0 = 0;
  subscribe("undici:request:headers", (m) => {
    const status = (m as { response: { statusCode: number } }).response.statusCode;
    answers[status] = (answers[status] ?? 0) + 1;
    if (status !== 429) accepted.push(Math.round(performance.now() - t0));
  });
  await report(async () => {
    t0 = performance.now();
    let passes = 0;
    for (let delivered = 0; delivered < n && passes < 50; passes++) {
      const destination = module.create(kind, d.config, mapping.target, { logger });
      try {
        const r = await pushOutbox({
          storeRoot,
          ...readStore(storeRoot),
          targets: [
            { name: kind, destination, mapping, queue: { ...d.queue, perMinute: limit }, maxAttempts: 1000 },
          ],
          signer,
          logger,
          ignoreBackoff: true,
        });
        delivered = r[kind]!.states.delivered;
      } finally {
        await destination.close();
      }
    }
    return { answers, accepted, passes, attachments: mapping.attachments };
  });
}

/**
 * Records to push per destination: SEALGATE_BENCH_PUSH_RECORDS is one count for all three, or
 * per destination ("servicenow=1000,vanta=1000,archer=380"; a destination left out is not run),
 * because a push at this limit takes minutes per 100 records (Archer's 1,000 took almost 4 hours
 * at 23 requests a record; 11 since a delivery links its files in one update).
 */
function recordCounts(): [Kind, number][] {
  const spec = process.env.SEALGATE_BENCH_PUSH_RECORDS ?? String(QUICK ? 20 : 1000);
  if (/^\d+$/.test(spec)) return KINDS.map((k) => [k, Number(spec)]);
  const counts = spec.split(",").map((part) => part.split("="));
  for (const [k, v] of counts)
    if (!KINDS.includes(k as Kind) || !/^\d+$/.test(v ?? ""))
      throw new Error(`SEALGATE_BENCH_PUSH_RECORDS: "${k}=${v}" is not <servicenow|vanta|archer>=<count>`);
  return counts.map(([k, v]) => [k as Kind, Number(v)]);
}

export async function benchPush(): Promise<BenchResult> {
  const m = machine();
  const counts = recordCounts();
  const limit = Number(process.env.SEALGATE_BENCH_PUSH_LIMIT ?? 100);
  const sets = new Map<number, Awaited<ReturnType<typeof sealedRecords>>>();
  for (const [, n] of counts) {
    if (sets.has(n)) continue;
    process.stderr.write(`  building ${n} sealed records (cached after the first run)\n`);
    sets.set(n, await sealedRecords(n));
  }
  await mkdir(CACHE, { recursive: true });
  const sim = await startSimulators({ ratePerMinute: limit });
  const destinations = (parseYaml(sim.yaml) as { destinations: Record<string, Record<string, unknown>> })
    .destinations;
  const rows = [];
  const targets = [];
  const notes: string[] = [];
  try {
    const runs = await Promise.all(
      counts.map(async ([kind, n]) => {
        const sealed = sets.get(n)!;
        const root = await mkdtemp(join(CACHE, `push-${kind}-`));
        await cp(sealed.root, root, { recursive: true });
        const { kind: _kind, ...config } = destinations[kind]!;
        try {
          const run = await timeNodeChild(SCRIPT, [kind, root, String(limit)], {
            SEALGATE_BENCH_DESTINATION: JSON.stringify(config),
            SEALGATE_BENCH_PUSH_RECORDS: String(n),
            SEALGATE_BENCH_SIGNER: JSON.stringify({
              key: sealed.pki.sealing.key,
              cert: sealed.pki.sealing.cert,
            }),
          });
          process.stderr.write(`  ${kind}: ${run.seconds.toFixed(0)} s, ${run.maxRssMb.toFixed(0)} MB\n`);
          return { kind, n, sealed, run };
        } finally {
          await rm(root, { recursive: true, force: true });
        }
      }),
    );
    m.loadAfter = machine().loadBefore;
    for (const { kind, n, sealed, run } of runs) {
      const answers = run.report!.answers as Record<string, number>;
      const attachments = run.report!.attachments as string[];
      const times = run.report!.accepted as number[];
      const accepted = times.length;
      // The last minute is cut short when the work runs out, so the rate is judged on the
      // minutes before it: answers in them against what the limit permits in them.
      const full = Math.floor(run.seconds / 60);
      const inFull = times.filter((t) => t < full * 60_000).length;
      const ratio = full > 0 ? inFull / (limit * full) : NaN;
      const held = sim.sims[kind].records();
      const byRecord = new Map<string, number>();
      for (const r of held) byRecord.set(r.correlation ?? "", (byRecord.get(r.correlation ?? "") ?? 0) + 1);
      const duplicates = held.length - byRecord.size;
      const missing = sealed.records.filter((r) => !byRecord.has(r)).length;
      const incomplete = held.filter((r) => r.files.length !== attachments.length).length;
      rows.push(
        row(`${kind}: ${n} records, ${accepted} accepted requests`, [run], accepted * 60, "requests/min"),
      );
      targets.push(
        {
          target: `${kind}: >= 95% of the permitted rate (${limit}/min)`,
          measured:
            full > 0
              ? `${inFull} answered in the first ${full} full minute(s), ${limit * full} permitted: ${(ratio * 100).toFixed(1)}% (${answers["429"] ?? 0} answers were 429)`
              : `the run took under a minute (${run.seconds.toFixed(0)} s): push more records to measure the rate`,
          met: ratio >= 0.95,
        },
        {
          target: `${kind}: zero duplicates, nothing missing`,
          measured: `${duplicates} duplicate(s), ${missing} missing, ${incomplete} with a file missing or extra`,
          met: duplicates === 0 && missing === 0 && incomplete === 0,
        },
        {
          target: `${kind}: peak RSS < 256 MB`,
          measured: `${run.maxRssMb.toFixed(0)} MB`,
          met: run.maxRssMb < 256,
        },
      );
      notes.push(
        `${kind}: answers by status ${JSON.stringify(answers)}; ${String(run.report!.passes)} push pass(es).`,
      );
    }
  } finally {
    await sim.close();
    for (const sealed of sets.values()) await rm(dirname(sealed.root), { recursive: true, force: true });
  }
  return {
    name: "push",
    title: "Push to the GRC simulators at a 100 requests/minute limit",
    command: `${process.env.SEALGATE_BENCH_PUSH_RECORDS ? `SEALGATE_BENCH_PUSH_RECORDS=${process.env.SEALGATE_BENCH_PUSH_RECORDS} ` : ""}npm run bench -- push`,
    machine: m,
    workload: `${counts.map(([k, n]) => `${n} sealed records to ${k}`).join(", ")}, all at once, each simulator limiting to ${limit} requests per minute (429 beyond it) and each destination's queue set to ${limit} calls per minute; one remote record and its mapped attachments per sealed record`,
    rows,
    targets,
    notes: [
      "Rate: answers other than 429 (token calls included) in each full minute of the run, against the limit; the last, partial minute is left out because the work ran out in it, not the rate. Above 100% where the simulator's windows do not line up with the run's minutes (Archer's are clock minutes), so one run minute can take parts of two windows.",
      `One run per destination (a push at this limit takes minutes per 100 records: ${limit} requests a minute over roughly 8 (ServiceNow), 9 (Vanta) or 11 (Archer; 23 before a delivery linked its files in one update) requests per record).`,
      ...notes,
    ],
  };
}

if (process.argv[1] === SCRIPT && process.argv[2] === "--child") {
  await child(process.argv[3]!, process.argv[4]!, Number(process.argv[5]));
}
