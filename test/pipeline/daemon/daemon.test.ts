import { access, appendFile, mkdir, readFile, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from "vitest";
import type { SimulatorHandle } from "../../../connectors/sdk/simulator.js";
import { SIMULATORS } from "../../../connectors/simulators.js";
import { createLogger } from "../../../src/core/log.js";
import { verifyStore } from "../../../src/evidence/verify/store.js";
import { verifyParts } from "../../../src/app/store.js";
import { cloneModel, workspace } from "../../support/workflow.js";
import { throwawayTls } from "../../support/throwaway-ca.js";
import { DaemonProcess, httpsGet, metric, signedDelivery, slowProxy } from "./harness.js";

/*
 * `sealgate daemon` as a real child process (run `npx tsc -p tsconfig.json` first) against the
 * real MLflow server and the ServiceNow, Vanta and Archer simulators: readiness, a webhook that seals and delivers an
 * approved version without waiting for a cron tick, a forged webhook refused, refusals logged
 * with reason and delivery id, replays refused across a restart, the bind rule with HTTPS and an
 * access token, SIGTERM in the middle of a sync, and a second signal.
 */

const ADA = "ada.lovelace@example.org";
const HOOK_SECRET = "whsec-test-4a1c9e";
const DAEMON_TOKEN = "daemon-token-9c41e07d2b";
const NEVER = "0 0 1 1 *"; // once a year: only webhooks and start-up work run during a test
const env: Record<string, string> = { SEALGATE_TEST_HOOK: HOOK_SECRET };
const DESTINATIONS = ["servicenow", "vanta", "archer"] as const;

type Ws = Awaited<ReturnType<typeof workspace>>;
let ws: Ws;
let sims: Record<(typeof DESTINATIONS)[number], SimulatorHandle>;
const running: DaemonProcess[] = [];

async function until<T>(probe: () => Promise<T | undefined | false>): Promise<T> {
  for (;;) {
    const v = await probe();
    if (v !== undefined && v !== false) return v;
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function writeConfig(
  file: string,
  o: {
    models: string[];
    trackingUri?: string;
    sync?: string;
    push?: string;
    graceSeconds?: number;
    /** Lines added to the daemon section, e.g. its listen address and http settings. */
    daemon?: string[];
  },
) {
  const { pki } = ws;
  await writeFile(
    join(ws.dir, file),
    [
      "mlflow:",
      `  trackingUri: ${o.trackingUri ?? inject("mlflow").url}`,
      "  auth: { type: none }",
      `  models: ${JSON.stringify(o.models)}`,
      "store: { path: store }",
      "policy: policy.yaml",
      `trust: { anchors: ${pki.trust.anchors}, intermediates: ${pki.trust.intermediates} }`,
      `sealing: { key: { type: pem, key: ${pki.sealing.key}, cert: ${pki.sealing.cert} } }`,
      "destinations:",
      "  servicenow:",
      "    kind: servicenow",
      `    url: ${sims.servicenow.url}`,
      "    auth:",
      "      type: oauth-password",
      `      clientId: ${sims.servicenow.credentials.clientId}`,
      '      clientSecret: "${SEALGATE_TEST_SN_SECRET}"',
      `      username: ${sims.servicenow.credentials.username}`,
      '      password: "${SEALGATE_TEST_SN_PASSWORD}"',
      "  vanta:",
      "    kind: vanta",
      `    url: ${sims.vanta.url}`,
      `    auth: { clientId: ${sims.vanta.credentials.clientId}, clientSecret: "\${SEALGATE_TEST_VANTA}" }`,
      "  archer:",
      "    kind: archer",
      `    url: ${sims.archer.url}`,
      `    auth: { username: ${sims.archer.credentials.username}, password: "\${SEALGATE_TEST_ARCHER}" }`,
      "daemon:",
      ...(o.daemon ?? ["  listen: { port: 0 }"]),
      `  shutdownGraceSeconds: ${o.graceSeconds ?? 120}`,
      "  webhook: { secret: '${SEALGATE_TEST_HOOK}' }",
      "  jobs:",
      `    sync: { schedule: '${o.sync ?? NEVER}' }`,
      `    push: { schedule: '${o.push ?? NEVER}' }`,
      `    verify: { schedule: '${NEVER}' }`,
      `    checkpoint: { schedule: '${NEVER}' }`,
    ].join("\n"),
  );
  return join(ws.dir, file);
}

function daemon(cfg: string, ...extra: string[]) {
  const d = new DaemonProcess(["daemon", "--config", cfg, ...extra], env);
  running.push(d);
  return d;
}

const get = (url: string) => fetch(url).then(async (r) => ({ status: r.status, text: await r.text() }));
const lockPath = () => join(ws.dir, "store", "ledger", "LOCK");
/** Record entries: review and approve may also append event entries (when no daemon holds the ledger). */
const ledgerSize = async () =>
  (await readFile(join(ws.dir, "store", "ledger", "entries.log"), "utf8").catch(() => ""))
    .split("\n")
    .filter((l) => l && !l.startsWith('{"kind":"event"')).length;
const exists = (p: string) =>
  access(p).then(
    () => true,
    () => false,
  );

// A model no test daemon watches: each delivery is verified and recorded, and syncs nothing.
const UNWATCHED = {
  entity: "model_version_tag",
  action: "set",
  data: { name: "unwatched", version: "1", key: "sealgate.approval.on-call", value: "x" },
};
const postHook = (url: string, d: ReturnType<typeof signedDelivery>) =>
  fetch(`${url}/hooks/mlflow`, { method: "POST", ...d }).then((r) => r.status);
const refusedLog = (d: DaemonProcess, delivery: ReturnType<typeof signedDelivery>) =>
  d.lines.find(
    (l) => l.msg === "webhook delivery refused" && l.deliveryId === delivery.headers["x-mlflow-delivery-id"],
  );

async function reviewAndApprove(model: string, version: string) {
  await ws.review(model, version);
  const r = await ws.approve(model, version, "on-call", ADA);
  expect(r.err).toBe("");
  expect(r.code).toBe(0);
}

beforeAll(async () => {
  ws = await workspace();
  // The daemon is the ledger's one writer; the workspace only reviews and approves.
  await ws.deps.ledger.close();
  const quiet = { logger: createLogger({ level: "silent" }) };
  sims = {
    servicenow: await SIMULATORS.servicenow!.start(quiet),
    vanta: await SIMULATORS.vanta!.start(quiet),
    archer: await SIMULATORS.archer!.start(quiet),
  };
  env.SEALGATE_TEST_SN_SECRET = sims.servicenow.credentials.clientSecret!;
  env.SEALGATE_TEST_SN_PASSWORD = sims.servicenow.credentials.password!;
  env.SEALGATE_TEST_VANTA = sims.vanta.credentials.clientSecret!;
  env.SEALGATE_TEST_ARCHER = sims.archer.credentials.password!;
});

// A test that fails before its daemon exits must not leave it holding the ledger's lock, or
// every later test fails too (exit 2, the store is locked) and hides which one broke.
afterEach(async () => {
  const alive = running.filter((d) => d.proc.exitCode === null && d.proc.signalCode === null);
  for (const d of alive) d.proc.kill("SIGKILL");
  await Promise.all(alive.map((d) => d.exited));
});

afterAll(async () => {
  for (const sim of Object.values(sims ?? {})) await sim.close();
  await ws?.client.close();
});

describe("sealgate daemon", () => {
  it("is alive at once, ready once the store verified, and seals and delivers on a webhook without a cron tick", async () => {
    const model = await cloneModel(ws.client, "credit-risk", ["1", "2"], "1");
    const d = daemon(await writeConfig("webhook.yaml", { models: [model] }));
    const url = await d.url();
    expect((await get(`${url}/healthz`)).status).toBe(200);
    await until(async () => (await get(`${url}/readyz`)).status === 200);
    await d.waitFor((l) => l.msg === "scheduler started");

    // A forged delivery is refused and seals nothing, even for a version that is ready to seal.
    await reviewAndApprove(model, "2");
    const payload = {
      entity: "model_version_tag",
      action: "set",
      timestamp: new Date().toISOString(),
      data: { name: model, version: "2", key: "sealgate.approval.on-call", value: "x" },
    };
    const forged = signedDelivery(HOOK_SECRET, payload, { badSignature: true });
    const refused = await fetch(`${url}/hooks/mlflow`, { method: "POST", ...forged });
    expect(refused.status).toBe(401);
    expect(await refused.text()).toBe("WEBHOOK_SIGNATURE_INVALID\n");
    const afterForged = (await get(`${url}/metrics`)).text;
    expect(
      metric(afterForged, "sealgate_webhook_deliveries_total", { result: "WEBHOOK_SIGNATURE_INVALID" }),
    ).toBe(1);
    expect(metric(afterForged, "sealgate_records_sealed_total", { outcome: "sealed" })).toBeUndefined();
    expect(await ledgerSize()).toBe(0);

    // The same event, signed as MLflow signs it: sealed and delivered now, not at the next tick.
    const good = signedDelivery(HOOK_SECRET, payload);
    expect((await fetch(`${url}/hooks/mlflow`, { method: "POST", ...good })).status).toBe(204);
    const replay = await fetch(`${url}/hooks/mlflow`, { method: "POST", ...good });
    expect(replay.status).toBe(401);
    const text = await until(async () => {
      const t = (await get(`${url}/metrics`)).text;
      const done = DESTINATIONS.every(
        (destination) => metric(t, "sealgate_deliveries", { destination, state: "delivered" }) === 1,
      );
      return done && t;
    });
    expect(metric(text, "sealgate_records_sealed_total", { outcome: "sealed" })).toBe(1);
    expect(metric(text, "sealgate_versions_seen_total")).toBe(1);
    for (const destination of DESTINATIONS) {
      expect(metric(text, "sealgate_deliveries_total", { destination, result: "delivered" })).toBe(1);
      expect(metric(text, "sealgate_oldest_pending_delivery_seconds", { destination })).toBe(0);
    }
    expect(metric(text, "sealgate_last_verify_ok")).toBe(1);
    expect(metric(text, "sealgate_webhook_deliveries_total", { result: "accepted" })).toBe(1);
    expect(metric(text, "sealgate_webhook_deliveries_total", { result: "WEBHOOK_REPLAYED" })).toBe(1);
    expect(metric(text, "sealgate_job_runs_total", { job: "sync", result: "ok" })).toBeUndefined();
    expect(await ledgerSize()).toBe(1);
    // The ledger, served read-only for `sealgate verify BUNDLE --log URL`, is the file itself.
    const served = await get(`${url}/ledger/entries.log`);
    expect(served).toEqual({
      status: 200,
      text: await readFile(join(ws.dir, "store", "ledger", "entries.log"), "utf8"),
    });
    expect((await fetch(`${url}/ledger/LOCK`)).status).toBe(404); // those two files only
    expect((await ws.tags(model, "2"))["sealgate.state"]).toBe("approved");
    const sealed = d.lines.find((l) => l.msg === "sealed");
    for (const destination of DESTINATIONS)
      expect(
        sims[destination].records().map((r) => r.correlation),
        destination,
      ).toEqual([sealed?.record]);

    d.signal("SIGTERM");
    expect((await d.exited).code).toBe(0);
    expect(await exists(lockPath())).toBe(false);
    const logs = d.raw.join("\n");
    const secrets = [HOOK_SECRET, ...Object.values(sims).flatMap((s) => s.secrets())].filter(
      (x) => x.length >= 6,
    );
    expect(secrets.filter((x) => logs.includes(x)).map((x) => `${x.slice(0, 3)}…`)).toEqual([]);
  });

  it("logs and counts every refused delivery, 413 included, with its reason and delivery id", async () => {
    const d = daemon(await writeConfig("hooks.yaml", { models: ["nothing-watched"] }));
    const url = await d.url();
    const big = signedDelivery(HOOK_SECRET, {
      ...UNWATCHED,
      data: { ...UNWATCHED.data, value: "x".repeat(1 << 20) },
    });
    const forged = signedDelivery(HOOK_SECRET, UNWATCHED, { badSignature: true });
    expect(await postHook(url, signedDelivery(HOOK_SECRET, UNWATCHED))).toBe(204);
    expect(await postHook(url, big)).toBe(413);
    expect(await postHook(url, forged)).toBe(401);
    const m = (await get(`${url}/metrics`)).text;
    for (const result of ["accepted", "WEBHOOK_TOO_LARGE", "WEBHOOK_SIGNATURE_INVALID"])
      expect(metric(m, "sealgate_webhook_deliveries_total", { result }), result).toBe(1);
    expect(refusedLog(d, big)).toMatchObject({
      level: 40,
      code: "WEBHOOK_TOO_LARGE",
      status: 413,
      reason: expect.stringMatching(/over the 1048576-byte limit$/),
    });
    expect(refusedLog(d, forged)).toMatchObject({
      code: "WEBHOOK_SIGNATURE_INVALID",
      status: 401,
      reason: expect.stringContaining("signature mismatch"),
    });
    d.signal("SIGTERM");
    expect((await d.exited).code).toBe(0);
  });

  it("still refuses a delivery accepted before a restart, and starts past a journal line torn by a crash", async () => {
    const cfg = await writeConfig("replay.yaml", { models: ["nothing-watched"] });
    const first = daemon(cfg);
    const good = signedDelivery(HOOK_SECRET, UNWATCHED);
    expect(await postHook(await first.url(), good)).toBe(204);
    first.signal("SIGTERM");
    expect((await first.exited).code).toBe(0);

    // SIGKILL in the middle of an append leaves a line without its end.
    const journal = join(ws.dir, "store", "webhook", "seen.jsonl");
    await mkdir(dirname(journal), { recursive: true });
    await appendFile(journal, '{"id":"torn-by-a-cra');
    const second = daemon(cfg);
    const url = await second.url();
    expect(await postHook(url, good)).toBe(401);
    expect(refusedLog(second, good)).toMatchObject({
      code: "WEBHOOK_REPLAYED",
      reason: expect.stringContaining("was already received"),
    });
    const m = (await get(`${url}/metrics`)).text;
    expect(metric(m, "sealgate_webhook_deliveries_total", { result: "WEBHOOK_REPLAYED" })).toBe(1);
    expect(second.lines.some((l) => typeof l.msg === "string" && l.msg.includes("torn line"))).toBe(true);
    expect(await postHook(url, signedDelivery(HOOK_SECRET, UNWATCHED))).toBe(204);
    second.signal("SIGTERM");
    expect((await second.exited).code).toBe(0);
  });

  it("beyond loopback serves HTTPS and wants the access token for /metrics and the ledger, health staying open", async () => {
    const tls = await throwawayTls("daemon");
    await writeFile(join(ws.dir, "daemon-srv.pem"), tls.cert);
    await writeFile(join(ws.dir, "daemon-srv.key"), tls.key);
    env.SEALGATE_TEST_DAEMON_TOKEN = DAEMON_TOKEN;
    const cfg = await writeConfig("exposed.yaml", {
      models: ["nothing-watched"],
      daemon: [
        "  listen: { host: 0.0.0.0, port: 0 }",
        "  http:",
        "    accessToken: '${SEALGATE_TEST_DAEMON_TOKEN}'",
        "    tls: { cert: daemon-srv.pem, key: daemon-srv.key }",
      ],
    });
    const d = daemon(cfg);
    const url = await d.url();
    expect(url).toMatch(/^https:/);
    const ca = await readFile(tls.caPath);
    expect(await httpsGet(`${url}/healthz`, { ca })).toEqual({ status: 200, text: "ok\n" });
    expect((await httpsGet(`${url}/metrics`, { ca })).status).toBe(401);
    expect((await httpsGet(`${url}/ledger/entries.log`, { ca })).status).toBe(401);
    const metrics = await httpsGet(`${url}/metrics`, { ca, token: DAEMON_TOKEN });
    expect(metrics.status).toBe(200);
    expect(metrics.text).toContain("sealgate_webhook_deliveries_total");
    expect(await httpsGet(`${url}/ledger/entries.log`, { ca, token: DAEMON_TOKEN })).toEqual({
      status: 200,
      text: await readFile(join(ws.dir, "store", "ledger", "entries.log"), "utf8").catch(() => ""),
    });
    d.signal("SIGTERM");
    expect((await d.exited).code).toBe(0);
    expect(d.raw.join("\n")).not.toContain(DAEMON_TOKEN);
  });

  it("refuses a non-loopback bind without TLS and a token: exit 2 naming the keys, unless allowInsecureBind", async () => {
    const exposed = ["  listen: { host: 0.0.0.0, port: 0 }"];
    const refused = daemon(await writeConfig("insecure.yaml", { models: ["none"], daemon: exposed }));
    const outcome = await Promise.race([
      refused.exited.then(({ code }) => code),
      refused.url().then(() => "listening"),
    ]);
    expect(outcome).toBe(2);
    const out = refused.raw.join("\n");
    for (const key of [
      "daemon.listen.host",
      "daemon.http.tls",
      "daemon.http.accessToken",
      "daemon.allowInsecureBind: true",
    ])
      expect(out).toContain(key);
    expect(await exists(lockPath())).toBe(false);

    const allowed = daemon(
      await writeConfig("allowed.yaml", {
        models: ["none"],
        daemon: [...exposed, "  allowInsecureBind: true"],
      }),
    );
    const url = await allowed.url();
    expect((await get(`${url}/metrics`)).status).toBe(200);
    expect(
      allowed.lines.find((l) => l.level === 40 && String(l.msg).includes("allowInsecureBind")),
    ).toMatchObject({
      missing: ["daemon.http.tls", "daemon.http.accessToken"],
    });
    allowed.signal("SIGTERM");
    expect((await allowed.exited).code).toBe(0);
  });

  it("refuses to start on an invalid cron expression: exit 2 naming the path", async () => {
    const cfg = join(ws.dir, "bad-cron.yaml");
    await writeFile(
      cfg,
      "mlflow: { trackingUri: 'http://127.0.0.1:9' }\ndaemon: { jobs: { push: { schedule: '* * *' } } }\n",
    );
    const d = daemon(cfg);
    expect((await d.exited).code).toBe(2);
    expect(d.raw.join("\n")).toContain("daemon.jobs.push.schedule: not a valid cron expression");
  });

  it("answers 503 on /readyz with the reason when MLflow is unreachable", async () => {
    const d = daemon(await writeConfig("down.yaml", { models: ["none"], trackingUri: "http://127.0.0.1:9" }));
    const url = await d.url();
    expect((await get(`${url}/healthz`)).status).toBe(200);
    const r = await get(`${url}/readyz`);
    expect(r.status).toBe(503);
    expect(r.text).toMatch(/^mlflow: /m);
    d.signal("SIGINT");
    expect((await d.exited).code).toBe(0);
  });

  it("on SIGTERM mid-sync lets the sync finish, exits 0 with the ledger verifiable and the lock released", async () => {
    const model = await cloneModel(ws.client, "credit-risk", ["1", "2"], "1");
    await reviewAndApprove(model, "2");
    const proxy = await slowProxy(inject("mlflow").url, 150);
    try {
      const before = await ledgerSize();
      const cfg = await writeConfig("slow.yaml", {
        models: [model],
        trackingUri: proxy.url,
        sync: "* * * * * *",
      });
      const d = daemon(cfg);
      await d.waitFor((l) => l.job === "sync" && l.msg === "run started");
      d.signal("SIGTERM");
      expect((await d.exited).code).toBe(0);
      // The running sync finished rather than being cut off, and sealed the approved version.
      expect(d.lines.some((l) => l.job === "sync" && l.msg === "run ended" && l.result === "ok")).toBe(true);
      expect(d.lines.filter((l) => l.job === "sync" && l.msg === "run started")).toHaveLength(1);
      expect(await ledgerSize()).toBe(before + 1);
      expect(await exists(lockPath())).toBe(false);
      const report = await verifyStore(await verifyParts(join(ws.dir, "store")), { trust: ws.trust });
      expect(report.findings).toEqual([]);
      expect(report.uncheckpointed).toBe(0);
      // Delivery was the push job's work; the next run delivers it.
      const once = daemon(cfg, "--once");
      expect((await once.exited).code).toBe(0);
      for (const destination of DESTINATIONS)
        expect(sims[destination].records(), destination).toHaveLength(before + 1);
    } finally {
      await proxy.close();
    }
  });

  it("exits at once on a second signal, and the next start takes over cleanly", async () => {
    const model = await cloneModel(ws.client, "credit-risk", ["1"], "1");
    // Every MLflow call takes ten minutes: the sync can only end by the second signal.
    const proxy = await slowProxy(inject("mlflow").url, 600_000);
    try {
      const cfg = await writeConfig("stuck.yaml", {
        models: [model],
        trackingUri: proxy.url,
        sync: "* * * * * *",
        graceSeconds: 3600,
      });
      const d = daemon(cfg);
      await d.waitFor((l) => l.job === "sync" && l.msg === "run started");
      d.signal("SIGTERM");
      await d.waitFor((l) => typeof l.msg === "string" && l.msg.startsWith("stopping"));
      d.signal("SIGTERM");
      expect((await d.exited).code).toBe(143);
      // The lock names a dead process: the next writer takes it over, and nothing is corrupt.
      const once = daemon(await writeConfig("after.yaml", { models: [model] }), "--once");
      expect((await once.exited).code).toBe(0);
      expect(
        (await verifyStore(await verifyParts(join(ws.dir, "store")), { trust: ws.trust })).findings,
      ).toEqual([]);
    } finally {
      await proxy.close();
    }
  });
});
