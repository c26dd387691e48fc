import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import { CONNECTORS } from "../../connectors/index.js";
import { expectExactlyOnceRemote } from "../connector-kit/remote-check.js";
import { loadDestinations } from "../../src/app/config/destinations.js";
import { parseConfig } from "../../src/app/config/load.js";
import { pushOutbox } from "../../src/delivery/engine/engine.js";
import { startSimulators } from "../../src/dev/simulators.js";
import { FileLedger } from "../../src/evidence/ledger/file-ledger.js";
import { createLogger } from "../../src/core/log.js";
import { readOutbox } from "../../src/delivery/outbox/outbox.js";
import { sealedRecords, sealMore } from "../support/sealed-records.js";
import { readStore } from "../../src/app/store.js";

/*
 * The fault soak: for SEALGATE_SOAK_SECONDS (default 600) records keep arriving while the three
 * simulators answer with random 5xx, 429 bursts, resets, latency spikes and token revocations,
 * and the delivery engine keeps pushing. At the end, with the faults off, every record is at
 * every destination exactly once with byte-equal files, nothing is dead, and no secret was logged.
 */

const SOAK_MS = Number(process.env.SEALGATE_SOAK_SECONDS ?? 600) * 1000;

describe("fault soak against the three simulators", () => {
  it(
    "loses and duplicates nothing while records keep arriving through faults",
    async () => {
      const s = await sealedRecords(20);
      const sim = await startSimulators();
      const logs: string[] = [];
      const logger = createLogger({
        level: "debug",
        destination: new Writable({ write: (c, _e, cb) => (logs.push(String(c)), cb()) }),
      });
      try {
        const config = parseConfig(
          { mlflow: { trackingUri: "http://127.0.0.1:9" }, ...parseYaml(sim.yaml) },
          "soak",
        );
        const targets = (
          await loadDestinations(config.destinations!, {
            configPath: "soak.yaml",
            connectors: CONNECTORS,
            logger,
          })
        ).map((t) => ({ ...t, maxAttempts: 1_000 }));
        const records = [...s.records];
        const deadline = Date.now() + SOAK_MS;
        let rounds = 0;
        while (Date.now() < deadline) {
          rounds++;
          // New sealed records arrive, then a checkpoint covers them (as sync does).
          records.push(...(await sealMore(s, records.length, 1 + Math.floor(Math.random() * 4))));
          const ledger = await FileLedger.open(`${s.root}/ledger`, { waitMs: 10_000 });
          await ledger.checkpoint(s.signer);
          await ledger.close();
          for (const h of Object.values(sim.sims)) {
            h.setFaults({
              errorRate: Math.random() * 0.2,
              resetRate: Math.random() * 0.05,
              latencyMs: Math.random() < 0.2 ? 800 : 30,
              burst429: Math.random() < 0.3 ? 5 : 0,
              retryAfterSeconds: 1,
            });
            if (Math.random() < 0.15) h.revokeTokens();
          }
          await pushOutbox({
            storeRoot: s.root,
            ...readStore(s.root),
            targets,
            signer: s.signer,
            logger,
            backoff: { baseMs: 100, maxMs: 2_000 },
          });
        }
        for (const h of Object.values(sim.sims))
          h.setFaults({ errorRate: 0, resetRate: 0, latencyMs: 0, burst429: 0 });
        for (let i = 0; i < 10; i++) {
          const r = await pushOutbox({
            storeRoot: s.root,
            ...readStore(s.root),
            targets,
            signer: s.signer,
            logger,
            ignoreBackoff: true,
          });
          if (Object.values(r).every((d) => d.states.delivered === records.length)) break;
        }
        expect(rounds).toBeGreaterThan(1);
        for (const t of targets) {
          const states = [...(await readOutbox(s.root, t.name)).values()].map((x) => x.state);
          expect(
            states.filter((x) => x === "dead"),
            `${t.name}: dead letters`,
          ).toEqual([]);
          await expectExactlyOnceRemote(
            sim.sims[t.name as keyof typeof sim.sims],
            { root: s.root, records },
            t.name,
            t.mapping.attachments,
          );
        }
        const text = logs.join("");
        for (const secret of sim.secrets()) expect(text.includes(secret), "a secret in the logs").toBe(false);
        await Promise.all(targets.map((t) => t.destination.close()));
      } finally {
        await sim.close();
      }
    },
    SOAK_MS + 600_000,
  );
});
