import { setTimeout as sleep } from "node:timers/promises";
import { describe, expect, it } from "vitest";
import { expectExactlyOnceRemote } from "../connector-kit/remote-check.js";
import { startSimulators } from "../../src/dev/simulators.js";
import { ledgerView } from "../../src/evidence/ledger/view.js";
import { FileLedgerReader } from "../../src/evidence/ledger/file-ledger.js";
import { loadMapping } from "../../src/delivery/mapping/compile.js";
import { BUILTIN_FILES, unavailableFiles } from "../../src/delivery/engine/files.js";
import { CONNECTORS } from "../../connectors/index.js";
import { verifyStore } from "../../src/evidence/verify/store.js";
import { verifyParts } from "../../src/app/store.js";
import { DaemonProcess } from "../pipeline/daemon/harness.js";
import { cli } from "../support/cli.js";
import { cloneModel, workspace } from "../support/workflow.js";

/*
 * Crash trials of the daemon: for each newly approved version, `sealgate daemon --once` (start-up
 * verification, sync and seal, checkpoint, push to ServiceNow, Vanta and Archer) is SIGKILLed
 * at a random point, twice, then run to completion. After every restart the store verifies,
 * every record a killed daemon reported sealed is in the ledger, and each destination holds
 * each sealed record exactly once with byte-equal files. SEALGATE_CRASH_VERSIONS (default 50)
 * versions x 2 kills = 100 trials.
 */

const VERSIONS = Number(process.env.SEALGATE_CRASH_VERSIONS ?? 50);
const KILLS = 2;

const ledgerRecords = async (storeRoot: string) =>
  (await ledgerView(FileLedgerReader.ofStore(storeRoot))).entries
    .filter((e) => e.kind === "record")
    .map((e) => e.object);

describe("the daemon killed at random points during seal and push", () => {
  it(`keeps every acknowledged record and delivers each exactly once (${VERSIONS * KILLS} kills)`, async () => {
    const sim = await startSimulators();
    const name = `crash-${Math.random().toString(36).slice(2, 8)}`;
    const w = await workspace({ extraConfig: sim.yaml, models: [name] });
    await w.deps.ledger.close(); // the daemon is the writer
    const store = `${w.dir}/store`;
    const logs: string[][] = [];
    const run = (...args: string[]) => {
      const d = new DaemonProcess(["daemon", "--config", w.cfg, ...args], {});
      logs.push(d.raw);
      return d;
    };
    try {
      // Every copy is credit-risk v2 against v1 (same content): a low-tier retrain each.
      await cloneModel(
        w.client,
        "credit-risk",
        Array.from({ length: VERSIONS + 2 }, () => "2"),
        "1",
        name,
      );
      for (let v = 2; v <= VERSIONS + 2; v++) await w.review(name, String(v));
      // How long a full --once takes, so kills land anywhere from start-up to the last upload.
      expect((await w.approve(name, "2", "on-call", "ada.lovelace@example.org")).err).toBe("");
      const started = Date.now();
      expect((await run("--once").exited).code).toBe(0);
      const full = Date.now() - started;
      const acknowledged = new Set<string>();
      let kills = 0;
      for (let v = 3; v <= VERSIONS + 2; v++) {
        expect((await w.approve(name, String(v), "on-call", "ada.lovelace@example.org")).err).toBe("");
        for (let k = 0; k < KILLS; k++) {
          const d = run("--once");
          const exited = await Promise.race([sleep(Math.random() * full).then(() => null), d.exited]);
          if (!exited) d.proc.kill("SIGKILL");
          await d.exited;
          kills++;
          for (const l of d.lines)
            if (l.msg === "sealed" && typeof l.record === "string") acknowledged.add(l.record);
        }
        const finish = run("--once");
        expect((await finish.exited).code, finish.raw.slice(-5).join("\n")).toBe(0);
        for (const l of finish.lines)
          if (l.msg === "sealed" && typeof l.record === "string") acknowledged.add(l.record);

        const report = await verifyStore(await verifyParts(store), { trust: w.trust });
        expect(report.findings, `after version ${v}`).toEqual([]);
        const sealed = await ledgerRecords(store);
        for (const r of acknowledged) expect(sealed, `acknowledged ${r}`).toContain(r);
        expect(new Set(sealed).size, "no record sealed twice").toBe(sealed.length);
        expect(sealed.length, "one record per approved version").toBe(v - 1);
      }
      const sealed = await ledgerRecords(store);
      // A delivery a kill interrupted may be waiting out its backoff: an operator's retry and one
      // more pass finish it (the daemon's next push tick would); nothing may be missing after that.
      expect((await cli(["outbox", "retry", "--config", w.cfg], process.env)).code).toBe(0);
      expect((await run("--once").exited).code).toBe(0);
      for (const [kind, h] of Object.entries(sim.sims)) {
        const mapping = await loadMapping(CONNECTORS[kind]!.defaultMappingPath, {
          destination: kind,
          target: CONNECTORS[kind]!.target,
          unavailable: unavailableFiles(BUILTIN_FILES),
        });
        await expectExactlyOnceRemote(h, { root: store, records: sealed }, kind, mapping.attachments);
      }
      expect(kills).toBe(VERSIONS * KILLS);
      // Every daemon's log, killed or not: no simulator credential, token or session id.
      const text = logs.flat().join("\n");
      for (const secret of sim.secrets())
        expect(text.includes(secret), "a secret in a daemon log").toBe(false);
    } finally {
      await w.client.close();
      await sim.close();
    }
  }, 3_600_000);
});
