import { afterEach, describe, expect, it } from "vitest";
import { SealgateError } from "../../../src/core/errors.js";
import type { ServiceNowSimulator, ServiceNowSimulatorOptions } from "../simulator/server.js";
import { delivery, push, startSim, type TestDestinationOptions, testDestination } from "./helpers.js";

let sim: ServiceNowSimulator;
afterEach(() => sim?.close());

async function setup(simOpts: ServiceNowSimulatorOptions = {}, destOpts: TestDestinationOptions = {}) {
  sim = await startSim(simOpts);
  return testDestination(sim, destOpts);
}

async function rejection(p: Promise<unknown>): Promise<SealgateError> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(SealgateError);
  return err as SealgateError;
}

const attachmentPosts = () => sim.stats()["POST /api/now/attachment/file"] ?? 0;

describe("find, create, listFiles, upload", () => {
  it("creates one row with the digest in correlation_id and every file byte-equal", async () => {
    const dest = await setup();
    await dest.prepare();
    const d = delivery(1);
    expect(await dest.find(d.correlation)).toBeNull();
    const ref = await push(dest, d);
    expect(ref.id).toMatch(/^[0-9a-f]{32}$/);
    expect(ref.url).toBe(`${sim.url}/sn_grc_ai_gov_ai_system_task.do?sys_id=${ref.id}`);
    expect(await dest.find(d.correlation)).toEqual(ref);
    expect(await dest.listFiles(ref)).toEqual(
      expect.arrayContaining(d.files.map((f) => ({ name: f.name, size: f.bytes.length }))),
    );
    const [remote] = sim.records();
    expect(remote?.correlation).toBe(d.correlation);
    expect(remote?.fields.short_description).toBe("fraud-detector v1: approved");
    expect(remote?.fields.sys_class_name).toBe("sn_grc_ai_gov_ai_system_task");
    expect(remote?.files.map((f) => f.sha256).sort()).toEqual(d.files.map((f) => f.sha256).sort());
    await dest.close();
  });

  it("after a crash between create and upload the next run finishes the same row", async () => {
    const first = await setup();
    const d = delivery(2);
    const ref = await first.create(d);
    await first.upload(ref, d.files[0]!);
    await first.close(); // the process dies here

    const second = testDestination(sim);
    expect(await second.find(d.correlation)).toEqual(ref);
    await push(second, d);
    expect(sim.records()).toHaveLength(1);
    expect(sim.records()[0]?.files).toHaveLength(d.files.length);
    expect(attachmentPosts()).toBe(d.files.length);
    // Running the whole delivery again changes nothing.
    await push(second, d);
    expect(sim.records()).toHaveLength(1);
    expect(attachmentPosts()).toBe(d.files.length);
    await second.close();
  });

  it("lists attachments across pages", async () => {
    const dest = await setup({}, { config: { pageSize: 2 } });
    const d = delivery(3);
    const ref = await push(dest, d);
    const before = sim.stats()["GET /api/now/attachment"] ?? 0;
    expect((await dest.listFiles(ref)).map((f) => f.name).sort()).toEqual(d.files.map((f) => f.name).sort());
    expect((sim.stats()["GET /api/now/attachment"] ?? 0) - before).toBe(3);
    await dest.close();
  });

  it("finds the oldest row when a record was created twice by someone else", async () => {
    const dest = await setup();
    const d = delivery(4);
    const oldest = sim.state.insert("sn_grc_ai_gov_ai_system_task", { correlation_id: d.correlation });
    sim.state.insert("sn_grc_ai_gov_ai_system_task", { correlation_id: d.correlation });
    expect((await dest.find(d.correlation))?.id).toBe(oldest.sys_id);
    await dest.close();
  });

  it("refuses a correlation value that is not a digest (no query injection)", async () => {
    const dest = await setup();
    const err = await rejection(dest.find("sha256:ab^ORDERBYsys_id"));
    expect(err.code).toBe("USAGE");
    await dest.close();
  });
});

describe("the correlation column must be proven before a lookup is trusted", () => {
  it("finds correlation_id inherited from task through sys_db_object", async () => {
    const dest = await setup({ grcExtendsTask: true });
    await expect(dest.prepare()).resolves.toBeUndefined();
    await dest.close();
  });

  it("fails prepare, naming the fix, where the GRC table does not extend task", async () => {
    const dest = await setup({ grcExtendsTask: false });
    const err = await rejection(dest.prepare());
    expect(err.code).toBe("SERVICENOW_TARGET_INVALID");
    expect(err.exitCode).toBe(2);
    expect(err.message).toMatch(/no column correlation_id .*target\.correlationField/);
    await dest.close();
  });

  it("works with a configured u_ column instead", async () => {
    const dest = await setup(
      { grcExtendsTask: false },
      { target: { table: "sn_grc_ai_gov_ai_system_task", correlationField: "u_sealgate_digest" } },
    );
    const d = delivery(5);
    await push(dest, d);
    expect(sim.state.read("sn_grc_ai_gov_ai_system_task")[0]?.u_sealgate_digest).toBe(d.correlation);
    expect(await dest.find(d.correlation)).not.toBeNull();
    await dest.close();
  });

  it("refuses a column too short for a digest (the instance would truncate it)", async () => {
    const dest = await setup(
      {},
      { target: { table: "sn_grc_ai_gov_ai_system", correlationField: "u_short_ref" } },
    );
    const err = await rejection(dest.prepare());
    expect(err.message).toMatch(/u_short_ref holds 40 characters.*truncated/);
    await dest.close();
  });

  it("refuses an unknown table", async () => {
    const dest = await setup({}, { target: { table: "sn_grc_nope" } });
    expect((await rejection(dest.prepare())).message).toMatch(
      /target\.table: the instance has no table sn_grc_nope/,
    );
    await dest.close();
  });

  it.each([false, true])(
    "never answers a lookup on an unknown column, whatever rows exist (returns_no_rows=%s)",
    async (invalidQueryReturnsNoRows) => {
      const dest = await setup({ invalidQueryReturnsNoRows }, { target: { correlationField: "u_missing" } });
      sim.state.insert("sn_grc_ai_gov_ai_system_task", { short_description: "someone else's row" });
      const err = await rejection(dest.find(delivery(6).correlation));
      expect(err.code).toBe("SERVICENOW_TARGET_INVALID");
      await dest.close();
    },
  );
});

describe("a create is read back", () => {
  it("stops, naming the fix, when the instance drops the correlation value (write ACL)", async () => {
    const dest = await setup();
    sim.state.writeDenied.add("correlation_id");
    const err = await rejection(dest.create(delivery(9)));
    expect(err.code).toBe("SERVICENOW_TARGET_INVALID");
    expect(err.message).toMatch(/correlation_id reads "", not the digest; grant the integration user write/);
    expect(sim.records()).toHaveLength(1);
    await dest.close();
  });
});

describe("writes are checked against the dictionary before they are sent", () => {
  it.each([
    [{ priority: "high" }, /fields\.priority: priority is integer: expected a whole number/],
    [{ u_nope: "x" }, /fields\.u_nope: .* has no column u_nope/],
    [{ opened_at: "2026-01-01T00:00:00Z" }, /fields\.opened_at: .*YYYY-MM-DD hh:mm:ss/],
    [{ short_description: "x".repeat(161) }, /short_description holds 160 characters/],
    [{ correlation_id: "something else" }, /fields\.correlation_id is the correlation column/],
  ])("rejects %j", async (fields, message) => {
    const dest = await setup();
    const d = delivery(7);
    const err = await rejection(dest.create({ ...d, fields }));
    expect(err.code).toBe("CONFIG_INVALID");
    expect(err.message).toMatch(message);
    expect(sim.records()).toHaveLength(0);
    await dest.close();
  });

  it("accepts a boolean into a string column and a numeric string into an integer column", async () => {
    const dest = await setup();
    const d = delivery(8);
    await dest.create({ ...d, fields: { review_type: true, priority: "2", active: false } });
    const [row] = sim.records();
    expect(row?.fields).toMatchObject({ review_type: "true", priority: "2", active: "false" });
    await dest.close();
  });
});
