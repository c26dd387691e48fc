import { createHash } from "node:crypto";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { pushOutbox } from "../../../src/delivery/engine/engine.js";
import { readDeliveryView } from "../../../src/evidence/ledger/delivery-view.js";
import { verifyEvidence } from "../../../src/delivery/engine/verify-evidence.js";
import { FileLedger, FileLedgerReader } from "../../../src/evidence/ledger/file-ledger.js";
import { createLogger } from "../../../src/core/log.js";
import { compileMapping } from "../../../src/delivery/mapping/compile.js";
import { OutboxWriter, readOutbox } from "../../../src/delivery/outbox/outbox.js";
import { retryDeliveries } from "../../../src/delivery/outbox/retry.js";
import { FsObjectStore } from "../../../src/evidence/store/fs-store.js";
import { FileDestination, type FileFaults } from "../../support/file-destination.mjs";
import { sealedRecords, sealMore, type SealedStore } from "../../support/sealed-records.js";
import { expectExactlyOnce } from "./exactly-once.js";
import { TEST_MAPPING, TEST_TARGET } from "../../support/test-mapping.mjs";
import { readStore } from "../../../src/app/store.js";
import { HttpStatusError } from "../../../src/core/http/errors.js";

const mapping = compileMapping(TEST_MAPPING, "test mapping", { destination: "files", target: TEST_TARGET });
const logger = createLogger({ level: "silent" });

async function setup(n = 12) {
  const s = await sealedRecords(n);
  const remote = await mkdtemp(join(tmpdir(), "sealgate-remote-"));
  return { s, remote };
}

function push(
  s: SealedStore,
  dest: FileDestination,
  extra: { maxAttempts?: number; ignoreBackoff?: boolean } = {},
) {
  return pushOutbox({
    storeRoot: s.root,
    ...readStore(s.root),
    targets: [
      {
        name: "files",
        destination: dest,
        mapping,
        queue: { concurrency: 4, perMinute: 100_000 },
        maxAttempts: extra.maxAttempts ?? 5,
      },
    ],
    signer: s.signer,
    logger,
    ignoreBackoff: extra.ignoreBackoff ?? true,
  });
}

describe("the delivery engine", () => {
  it("delivers every sealed record once with its mapped fields and files, and a second pass changes nothing", async () => {
    const { s, remote } = await setup();
    const dest = new FileDestination("files", remote);
    const first = await push(s, dest);
    expect(first.files).toMatchObject({ delivered: 12, failed: 0, waiting: 0 });
    expect(first.files!.states).toEqual({ pending: 0, in_flight: 0, delivered: 12, failed: 0, dead: 0 });
    await expectExactlyOnce(s, dest);
    const one = (await dest.records()).find((r) => r.correlation === s.records[4])!;
    expect(one.fields).toEqual({
      short_description: "Model credit-risk v5",
      correlation_id: s.records[4],
      decision: "approved",
      approvals: s.pki.approvers[0]!.email,
      source: "sealgate",
    });

    const calls = { ...dest.calls };
    const again = await push(s, dest);
    expect(again.files).toMatchObject({ delivered: 0, failed: 0 });
    expect(dest.calls).toEqual(calls);
  });

  it("uploads evidence.json that verifies and equals the frozen local object", async () => {
    const { s, remote } = await setup(3);
    const dest = new FileDestination("files", remote);
    await push(s, dest);
    const states = await readOutbox(s.root, "files");
    const store = new FsObjectStore(s.root);
    for (const record of s.records) {
      const ev = states.get(record)!.files!.find((f) => f.name === "evidence.json")!;
      const bytes = await store.get(`sha256:${ev.sha256}`);
      expect((await verifyEvidence(bytes, s.trust)).recordDigest).toBe(record);
    }
  });

  it("survives outages and lost responses without a second remote record or file", async () => {
    const { s, remote } = await setup();
    const faults: Partial<FileFaults> = { failBefore: 0.25, failAfter: 0.25 };
    let passes = 0;
    for (; passes < 40; passes++) {
      const r = await push(s, new FileDestination("files", remote, faults), { maxAttempts: 1000 });
      if (r.files!.states.delivered === 12) break;
    }
    expect(passes).toBeGreaterThan(0);
    await expectExactlyOnce(s, new FileDestination("files", remote));
  });

  it("backs off failed deliveries, kills them after maxAttempts, and `retry` revives them", async () => {
    const { s, remote } = await setup(3);
    const down = new FileDestination("files", remote, { failBefore: 1 });
    const r1 = await push(s, down, { maxAttempts: 2, ignoreBackoff: false });
    expect(r1.files!.states.failed).toBe(3);
    const failed = (await readOutbox(s.root, "files")).get(s.records[0]!)!;
    expect(failed).toMatchObject({ state: "failed", attempts: 1 });
    expect(failed.lastError).toContain("injected outage");
    expect(Date.parse(failed.retryAt!)).toBeGreaterThan(Date.now());

    // Not due yet: a pass without ignoreBackoff leaves them alone.
    const calls = down.calls.find;
    expect((await push(s, down, { maxAttempts: 2, ignoreBackoff: false })).files!.failed).toBe(0);
    expect(down.calls.find).toBe(calls);

    const r2 = await push(s, down, { maxAttempts: 2 });
    expect(r2.files!.states.dead).toBe(3);
    // Dead deliveries are not attempted again, even when the remote is back.
    const up = new FileDestination("files", remote);
    expect((await push(s, up)).files!.states.dead).toBe(3);
    expect(up.calls.find).toBe(0);

    expect(await retryDeliveries(s.root, "files", { record: s.records[1] })).toBe(1);
    expect((await push(s, up)).files!.states).toMatchObject({ delivered: 1, dead: 2 });
    expect(await retryDeliveries(s.root, "files", {})).toBe(2);
    expect((await push(s, up)).files!.states.delivered).toBe(3);
    await expectExactlyOnce(s, up);
  });

  it("leaves records no checkpoint covers yet pending, and delivers them after the next checkpoint", async () => {
    const { s, remote } = await setup(3);
    const late = await sealMore(s, 3, 2);
    const dest = new FileDestination("files", remote);
    const r = await push(s, dest);
    expect(r.files).toMatchObject({ delivered: 3, waiting: 2 });
    expect(r.files!.states.pending).toBe(2);
    const ledger = await FileLedger.open(join(s.root, "ledger"));
    await ledger.checkpoint(s.signer);
    await ledger.close();
    expect((await push(s, dest)).files!.delivered).toBe(2);
    expect(
      (await readDeliveryView(FileLedgerReader.ofStore(s.root))).entries.map((e) => e.record).slice(3),
    ).toEqual(late);
  });

  it("refuses to attach next to a different remote file of the same name", async () => {
    const { s, remote } = await setup(3);
    const dest = new FileDestination("files", remote);
    const ref = await (async () => {
      await dest.prepare();
      return dest.create({ correlation: s.records[0]!, fields: {}, files: [] });
    })();
    const bogus = Buffer.from("not the pdf");
    await dest.upload(ref, {
      name: "record.pdf",
      mediaType: "application/pdf",
      bytes: bogus,
      sha256: createHash("sha256").update(bogus).digest("hex"),
    });
    const r = await push(s, dest);
    expect(r.files!.states).toMatchObject({ failed: 1, delivered: 2 });
    const state = (await readOutbox(s.root, "files")).get(s.records[0]!)!;
    expect(state.remote?.id).toBe(ref.id);
    expect(state.lastError).toMatch(/already has a record.pdf that differs .*remove the remote file/);
    expect((await dest.records())[0]!.files.filter((f) => f.name === "record.pdf")).toHaveLength(1);
  });

  it("reports a destination that cannot start without holding back the others", async () => {
    const { s, remote } = await setup(3);
    const broken = new FileDestination("broken", `${remote}/b`);
    broken.prepare = () => Promise.reject(new Error("login refused for destinations.broken.auth"));
    const locked = await OutboxWriter.open(s.root, "locked");
    const target = (name: string, destination: FileDestination) => ({
      name,
      destination,
      mapping,
      queue: { concurrency: 2, perMinute: 1e5 },
      maxAttempts: 5,
    });
    const r = await pushOutbox({
      storeRoot: s.root,
      ...readStore(s.root),
      targets: [
        target("files", new FileDestination("files", remote)),
        target("broken", broken),
        target("locked", new FileDestination("locked", `${remote}/l`)),
      ],
      signer: s.signer,
      logger,
    });
    await locked.close();
    expect(r.files).toMatchObject({ delivered: 3 });
    expect(r.broken).toMatchObject({ delivered: 0, error: "login refused for destinations.broken.auth" });
    expect(r.broken!.states.pending).toBe(3);
    expect(r.locked!.error).toContain("outbox locked is being written by another sealgate process");
  });

  it("names the destination and its kind when its credentials are refused, at login or per delivery", async () => {
    const { s, remote } = await setup(2);
    const refused = (status: number) =>
      new HttpStatusError({
        status,
        method: "POST",
        url: "https://grc.example.com/api/login",
        remote: { message: "invalid token" },
      });
    const eu = new FileDestination("grc-eu", `${remote}/eu`);
    eu.prepare = () => Promise.reject(refused(401));
    const us = new FileDestination("grc-us", `${remote}/us`);
    us.find = () => Promise.reject(refused(403));
    const target = (name: string, destination: FileDestination) => ({
      name,
      destination,
      mapping,
      queue: { concurrency: 1, perMinute: 1e5 },
      maxAttempts: 5,
    });
    const r = await pushOutbox({
      storeRoot: s.root,
      ...readStore(s.root),
      targets: [target("grc-eu", eu), target("grc-us", us)],
      signer: s.signer,
      logger,
    });
    expect(r["grc-eu"]!.error).toMatch(
      /^destination grc-eu \(file\): .*401.*; check the credentials of destinations\.grc-eu$/,
    );
    expect(r["grc-us"]).toMatchObject({ failed: 2, delivered: 0 });
    const states = [...(await readOutbox(s.root, "grc-us")).values()];
    expect(states).toHaveLength(2);
    for (const st of states)
      expect(st.lastError).toMatch(
        /^destination grc-us \(file\): .*403.*; check the credentials of destinations\.grc-us$/,
      );
  });
});
