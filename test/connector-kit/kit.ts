import { readFile, readdir } from "node:fs/promises";
import { join } from "node:path";
import { Writable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sealedRecords, type SealedStore } from "../support/sealed-records.js";
import { connectorSecretPaths, destinationSchema } from "../../src/app/config/destinations.js";
import { formatIssues } from "../../src/core/zod-issues.js";
import { BUILTIN_FILES, unavailableFiles } from "../../src/delivery/engine/files.js";
import { type DeliveryTarget, pushOutbox } from "../../src/delivery/engine/engine.js";
import { createLogger } from "../../src/core/log.js";
import { type CompiledMapping, loadMapping } from "../../src/delivery/mapping/compile.js";
import type { ConnectorModule } from "../../connectors/sdk/connector.js";
import { NO_FAULTS, type SimulatorHandle, type SimulatorModule } from "../../connectors/sdk/simulator.js";
import { SIMULATORS } from "../../connectors/simulators.js";
import { crashTrials } from "./kit-crash.js";
import { expectExactlyOnceRemote } from "./remote-check.js";
import { readStore } from "../../src/app/store.js";

/*
 * The checks every GRC connector must pass, registered as vitest tests. One line per
 * connector (connectors/<kind>/test/kit.test.ts):
 *
 *   describeConnectorKit(servicenow, { configFor: (sim, secret) => ({ url: sim.url, auth: {...} }) });
 *
 * `secret(value)` puts a credential in an environment variable and returns its ${VAR}
 * reference (config never holds secrets literally); every such value and every secret the
 * simulator reports is searched for in all captured logs and outbox files at the end.
 */

export interface KitOptions {
  /** The destination's config section for a running simulator. */
  configFor: (sim: SimulatorHandle, secret: (value: string) => string) => Record<string, unknown>;
  /** Sealed records pushed through faults (default 200). */
  records?: number;
  /** Kill trials = rounds x killsPerRound (default 5 x 4 = 20), each round on `records` (default 20). */
  crash?: { rounds?: number; killsPerRound?: number; records?: number };
  /** Built module (default export = the connector) for the crash child, if not in connectors/index.ts. */
  modulePath?: string;
  /** The connector's simulator, if not in connectors/simulators.ts. */
  simulator?: SimulatorModule;
  /** Queue for the tests (default: the module's concurrency, no rate cap: simulators need none). */
  queue?: { concurrency: number; perMinute: number };
  /** Extra connector-specific bad configs and the path their error must name. */
  badConfigs?: { config: Record<string, unknown>; path: string }[];
}

export function describeConnectorKit(module: ConnectorModule, opts: KitOptions): void {
  const kind = module.kind;
  const name = `${kind}-kit`;
  const secretValues: string[] = [];
  const secret = (value: string) => {
    let i = secretValues.indexOf(value);
    if (i < 0) i = secretValues.push(value) - 1;
    // Exported into this process's env, which the crash child inherits.
    const env = `SEALGATE_KIT_${kind.toUpperCase().replace(/\W/g, "_")}_${i}`;
    process.env[env] = value;
    return `\${${env}}`;
  };
  const logs: string[] = [];
  const sink = new Writable({ write: (c, _e, cb) => (logs.push(String(c)), cb()) });
  const logger = createLogger({
    level: "debug",
    destination: sink,
    secretPaths: connectorSecretPaths({ [kind]: module }),
  });
  const schema = destinationSchema({ [kind]: module });
  const queue = opts.queue ?? { concurrency: module.queueDefaults.concurrency, perMinute: 1_000_000 };
  const n = opts.records ?? 200;
  const simulators: SimulatorHandle[] = [];
  const outboxDirs: string[] = [];
  let sim: SimulatorHandle;
  let mapping: CompiledMapping;
  let sealed: SealedStore;

  const simulator = opts.simulator ?? SIMULATORS[kind];
  if (!simulator) throw new Error(`no simulator of kind ${kind} in connectors/simulators.ts`);
  const simulate = async () => {
    const h = await simulator.start({ logger: createLogger({ level: "silent" }) });
    simulators.push(h);
    return h;
  };
  const target = (h: SimulatorHandle): DeliveryTarget => {
    const d = schema.parse({ kind, ...opts.configFor(h, secret) });
    const destination = module.create(name, d.config, mapping.target, { logger });
    return { name, destination, mapping, queue, maxAttempts: 1000 };
  };

  describe(`connector kit: ${kind}`, () => {
    beforeAll(async () => {
      sim = await simulate();
      mapping = await loadMapping(module.defaultMappingPath, {
        destination: name,
        target: module.target,
        unavailable: unavailableFiles(BUILTIN_FILES),
      });
      sealed = await sealedRecords(n);
      outboxDirs.push(join(sealed.root, "outbox"));
    }, 1_800_000);
    afterAll(async () => {
      for (const h of simulators) await h.close();
    });

    it("parses its config with defaults from one place", () => {
      const d = schema.parse({ kind, ...opts.configFor(sim, secret) });
      expect(d.queue).toEqual(module.queueDefaults);
      expect(d.maxAttempts).toBe(10);
      expect(module.queueDefaults.concurrency).toBeGreaterThan(0);
      expect(module.queueDefaults.perMinute).toBeGreaterThan(0);
    });

    it("rejects bad config, naming the path", () => {
      const good = opts.configFor(sim, secret);
      const cases = [
        { config: { ...good, bogusSetting: 1 }, path: "bogusSetting" },
        ...Object.keys(good).map((k) => ({ config: { ...good, [k]: { "not a setting": [] } }, path: k })),
        ...(opts.badConfigs ?? []),
      ];
      for (const c of cases) {
        const r = schema.safeParse({ kind, ...c.config });
        expect(r.success, `config with ${c.path} broken`).toBe(false);
        expect(formatIssues(r.error!.issues)).toContain(c.path);
      }
    });

    it("compiles its default mapping, and the simulator accepts its fields", async () => {
      expect(mapping.attachments.length).toBeGreaterThan(0);
      const t = target(sim);
      await t.destination.prepare();
      expect(await t.destination.checkMapping(mapping.fieldNames)).toEqual([]);
      await t.destination.close();
    });

    it(`delivers ${n} sealed records through 5xx, 429 bursts, resets and a token revocation exactly once`, async () => {
      sim.setFaults({ errorRate: 0.1, resetRate: 0.03, burst429: 5, retryAfterSeconds: 1 });
      let delivered = 0;
      let revoked = false;
      for (let pass = 0; pass < 30; pass++) {
        const t = target(sim);
        try {
          const r = await pushOutbox({
            storeRoot: sealed.root,
            ...readStore(sealed.root),
            targets: [t],
            signer: sealed.signer,
            logger,
            ignoreBackoff: true,
            onOutcome: (_d, outcome) => {
              if (outcome !== "delivered" || ++delivered !== Math.floor(n / 3) || revoked) return;
              revoked = true;
              sim.revokeTokens();
              sim.setFaults({ burst429: 5 });
            },
          });
          if (r[name]!.states.delivered === n) break;
        } finally {
          await t.destination.close();
        }
      }
      sim.setFaults(NO_FAULTS);
      expect(revoked).toBe(true);
      await expectExactlyOnceRemote(sim, sealed, name, mapping.attachments);
    }, 1_800_000);

    it("changes nothing when pushed again", async () => {
      const before = JSON.stringify(sim.records());
      const t = target(sim);
      const r = await pushOutbox({
        storeRoot: sealed.root,
        ...readStore(sealed.root),
        targets: [t],
        signer: sealed.signer,
        logger,
      });
      await t.destination.close();
      expect(r[name]).toMatchObject({ delivered: 0, failed: 0 });
      expect(JSON.stringify(sim.records())).toBe(before);
    });

    it("ends exactly once after a pusher is SIGKILLed at random points and restarted", async () => {
      await crashTrials({
        module,
        opts,
        name,
        queue,
        simulate,
        target,
        logs,
        outboxDirs,
        secretPaths: connectorSecretPaths({ [kind]: module }),
        secret,
        logger,
      });
    }, 3_600_000);

    it("never writes a secret to logs, errors or outbox files", async () => {
      const secrets = [...new Set([...secretValues, ...simulators.flatMap((h) => h.secrets())])].filter(
        (x) => x.length >= 6,
      );
      expect(secrets.length).toBeGreaterThan(0);
      const texts = [...logs];
      for (const dir of outboxDirs)
        for (const f of await readdir(dir).catch(() => [] as string[]))
          texts.push(await readFile(join(dir, f), "utf8"));
      expect(texts.length).toBeGreaterThan(0);
      const hits = secrets.filter((x) => texts.some((t) => t.includes(x)));
      expect(hits.map((h) => `${h.slice(0, 3)}…(${h.length} chars)`)).toEqual([]);
    });
  });
}
