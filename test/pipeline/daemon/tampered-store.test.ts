import { chmod, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { Writable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startDaemon } from "../../../src/cli/commands/daemon.js";
import type { DaemonHandle } from "../../../src/pipeline/daemon/daemon.js";
import { createLogger } from "../../../src/core/log.js";
import { cli } from "../../support/cli.js";
import { sealedRecords, type SealedStore } from "../../support/sealed-records.js";
import { verifyStore } from "../../../src/evidence/verify/store.js";
import { verifyParts } from "../../../src/app/store.js";
import { metric } from "./harness.js";

/*
 * A store that fails verification at start must not get new entries: the daemon stays up to
 * say why (/readyz 503, sealgate_last_verify_ok 0) but runs no sync or checkpoint, and
 * `daemon --once` exits 1. No MLflow is needed: nothing here may reach it.
 */

const POLICY = join(import.meta.dirname, "../../../config/policy.example.yaml");
let sealed: SealedStore;
let cfg: string;
const logs: string[] = [];
const logger = createLogger({
  destination: new Writable({ write: (c, _e, cb) => (logs.push(String(c)), cb()) }),
});

beforeAll(async () => {
  sealed = await sealedRecords(5);
  // Sound before the one flipped bit below, so every finding the daemon reports is that bit's.
  expect((await verifyStore(await verifyParts(sealed.root), { trust: sealed.trust })).findings).toEqual([]);
  const hex = sealed.records[1]!.replace(/^sha256:/, "");
  const object = join(sealed.root, "objects", "sha256", hex.slice(0, 2), hex.slice(2));
  const bytes = await readFile(object);
  bytes[bytes.length - 2]! ^= 1;
  await chmod(object, 0o644);
  await writeFile(object, bytes);
  cfg = join(sealed.root, "..", "sealgate.yaml");
  const { pki } = sealed;
  await writeFile(
    cfg,
    [
      "mlflow: { trackingUri: 'http://127.0.0.1:9', auth: { type: none } }",
      `store: { path: ${sealed.root} }`,
      `policy: ${POLICY}`,
      `trust: { anchors: ${pki.trust.anchors}, intermediates: ${pki.trust.intermediates} }`,
      `sealing: { key: { type: pem, key: ${pki.sealing.key}, cert: ${pki.sealing.cert} } }`,
      "daemon: { listen: { port: 0 }, jobs: { sync: { schedule: '* * * * * *' } } }",
    ].join("\n"),
  );
}, 600_000);

describe("daemon on a tampered store", () => {
  let d: DaemonHandle | undefined;
  afterAll(async () => d?.stop());

  it("reports not ready with the reason and schedules no job that appends", async () => {
    d = await startDaemon(cfg, { logger, env: {} });
    const url = `http://127.0.0.1:${d.address.port}`;
    let ready: { status: number; text: string };
    do {
      const r = await fetch(`${url}/readyz`);
      ready = { status: r.status, text: await r.text() };
    } while (ready.text.includes("still running"));
    expect(ready.status).toBe(503);
    expect(ready.text).toMatch(
      /^ledger: start-up verification found \d+ problem\(s\); run sealgate verify$/m,
    );
    const metrics = await (await fetch(`${url}/metrics`)).text();
    expect(metric(metrics, "sealgate_last_verify_ok")).toBe(0);
    expect(metric(metrics, "sealgate_last_verify_findings")).toBeGreaterThan(0);
    const disabled = logs.filter((l) => l.includes("job disabled")).map((l) => JSON.parse(l).job as string);
    expect(disabled.sort()).toEqual(["checkpoint", "sync"]);
    await d.stop();
    d = undefined;
    expect(logs.some((l) => l.includes('"job":"sync"') && l.includes("run started"))).toBe(false);
  });

  it("`daemon --once` exits 1 and seals nothing when verification finds a problem", async () => {
    const before = await readFile(join(sealed.root, "ledger", "entries.log"));
    // The unreachable MLflow would make a sync an external failure (3): it is never tried.
    const r = await cli(["daemon", "--config", cfg, "--once"]);
    expect(r.err).toBe("");
    expect(r.code).toBe(1);
    expect(await readFile(join(sealed.root, "ledger", "entries.log"))).toEqual(before);
  });
});
