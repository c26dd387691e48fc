import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import type { Logger } from "pino";
import { expect } from "vitest";
import { sealedRecords } from "../support/sealed-records.js";
import { type DeliveryTarget, pushOutbox } from "../../src/delivery/engine/engine.js";
import type { ConnectorModule } from "../../connectors/sdk/connector.js";
import type { SimulatorHandle } from "../../connectors/sdk/simulator.js";
import type { KitOptions } from "./kit.js";
import type { PushChildSpec } from "./push-child.mjs";
import { expectExactlyOnceRemote } from "./remote-check.js";
import { readStore } from "../../src/app/store.js";

/*
 * Crash trials of the connector kit: in each round a fresh store and simulator, a child
 * pusher (built code in dist/) SIGKILLed at random points several times, then one restart
 * in-process that must end exactly once. The child's output joins the captured logs.
 */

const CHILD = join(import.meta.dirname, "push-child.mjs");
/** What the child imports: the built runtime. */
const BUILT = join(import.meta.dirname, "../../dist/connectors/index.js");

export async function crashTrials(k: {
  module: ConnectorModule;
  opts: KitOptions;
  name: string;
  queue: { concurrency: number; perMinute: number };
  simulate: () => Promise<SimulatorHandle>;
  target: (h: SimulatorHandle) => DeliveryTarget;
  logs: string[];
  outboxDirs: string[];
  secretPaths: string[];
  secret: (value: string) => string;
  logger: Logger;
}): Promise<void> {
  if (!existsSync(BUILT))
    throw new Error("dist/ is missing: run `npm run build` (npm test does) before the kit");
  const rounds = k.opts.crash?.rounds ?? 5;
  const kills = k.opts.crash?.killsPerRound ?? 4;
  expect(rounds * kills, "at least 20 kill trials").toBeGreaterThanOrEqual(20);
  for (let round = 0; round < rounds; round++) {
    const s = await sealedRecords(k.opts.crash?.records ?? 20);
    k.outboxDirs.push(join(s.root, "outbox"));
    const sim = await k.simulate();
    sim.setFaults({ errorRate: 0.05, resetRate: 0.02 });
    const t = k.target(sim);
    const spec: PushChildSpec = {
      kind: k.module.kind,
      ...(k.opts.modulePath ? { modulePath: k.opts.modulePath } : {}),
      name: k.name,
      // The same config the in-process target got (secrets stay ${ENV} references).
      config: k.opts.configFor(sim, k.secret),
      storeRoot: s.root,
      key: s.pki.sealing.key,
      cert: s.pki.sealing.cert,
      queue: k.queue,
      secretPaths: k.secretPaths,
    };
    const specPath = join(await mkdtemp(join(tmpdir(), "sealgate-kit-")), "spec.json");
    await writeFile(specPath, JSON.stringify(spec));
    for (let i = 0; i < kills; i++) await killOnce(specPath, round * kills + i, k.logs);
    await t.destination.close();
    sim.setFaults({ errorRate: 0, resetRate: 0 });
    const restart = k.target(sim);
    try {
      const r = await pushOutbox({
        storeRoot: s.root,
        ...readStore(s.root),
        targets: [restart],
        signer: s.signer,
        logger: k.logger,
        ignoreBackoff: true,
      });
      expect(
        r[k.name]!.states.delivered,
        `round ${round}: delivered after restart (${JSON.stringify(r[k.name])}); last log lines:\n${k.logs.slice(-3).join("")}`,
      ).toBe(s.records.length);
    } finally {
      await restart.destination.close();
    }
    await expectExactlyOnceRemote(sim, s, k.name, restart.mapping.attachments);
  }
}

async function killOnce(specPath: string, trial: number, logs: string[]) {
  const child = spawn(process.execPath, [CHILD, specPath], { stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  child.stdout.on("data", (c: Buffer) => (out += c.toString()));
  child.stderr.on("data", (c: Buffer) => logs.push(c.toString()));
  let code: number | null = null;
  const exited = new Promise((resolve) => child.on("close", (c) => resolve((code = c))));
  if (trial % 4 === 0) await sleep(Math.floor(Math.random() * 800));
  else {
    for (let waited = 0; !out.includes("ready") && waited < 30_000 && code === null; waited += 10)
      await sleep(10);
    await sleep(Math.floor(Math.random() * 1500));
  }
  child.kill("SIGKILL");
  await exited;
  logs.push(out);
  // Killed (null) or finished cleanly (0); anything else is the child failing on its own.
  expect(code === null || code === 0, `crash child exited ${code}:\n${logs.slice(-5).join("")}`).toBe(true);
}
