import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { CONNECTORS } from "../../../connectors/index.js";
import { pushOutbox } from "../../../src/delivery/engine/engine.js";
import { createLogger } from "../../../src/core/log.js";
import { compileMapping } from "../../../src/delivery/mapping/compile.js";
import { cli } from "../../support/cli.js";
import { FileDestination } from "../../support/file-destination.mjs";
import { sealedRecords } from "../../support/sealed-records.js";
import { TEST_MAPPING, TEST_TARGET } from "../../support/test-mapping.mjs";
import { readStore } from "../../../src/app/store.js";

// This test process registers a connector of its own (each test file runs in its own process).
CONNECTORS.files = {
  kind: "files",
  config: z.strictObject({ dir: z.string() }),
  target: TEST_TARGET,
  secretPaths: [],
  defaultMappingPath: "/nonexistent.yaml",
  queueDefaults: { concurrency: 2, perMinute: 600 },
  create: (name: string, c: { dir: string }) => new FileDestination(name, c.dir),
};

describe("sealgate outbox and status", async () => {
  const s = await sealedRecords(3);
  const dir = await mkdtemp(join(tmpdir(), "sealgate-outbox-cli-"));
  const config = join(dir, "sealgate.yaml");
  await writeFile(
    config,
    `mlflow: { trackingUri: "http://127.0.0.1:5000", auth: { type: none } }\nstore: { path: ${s.root} }\ndestinations:\n  grc: { kind: files, dir: ${dir}/grc }\n  down: { kind: files, dir: ${dir}/down, maxAttempts: 1 }\n`,
  );
  const mapping = compileMapping(TEST_MAPPING, "m", { destination: "x", target: TEST_TARGET });
  const target = (name: string, d: FileDestination) => ({
    name,
    destination: d,
    mapping,
    queue: { concurrency: 2, perMinute: 1e5 },
    maxAttempts: 1,
  });
  const push = (down: FileDestination) =>
    pushOutbox({
      storeRoot: s.root,
      ...readStore(s.root),
      targets: [target("grc", new FileDestination("grc", `${dir}/grc`)), target("down", down)],
      signer: s.signer,
      logger: createLogger({ level: "silent" }),
    });
  await push(new FileDestination("down", `${dir}/down`, { failBefore: 1 }));

  it("status counts states per destination, with the oldest waiting record's age", async () => {
    const r = await cli(["status", "--config", config, "--json"]);
    expect(r.code).toBe(0);
    const st = JSON.parse(r.out).destinations;
    expect(st.grc).toEqual({
      pending: 0,
      in_flight: 0,
      failed: 0,
      dead: 0,
      delivered: 3,
      oldestPendingSeconds: null,
    });
    expect(st.down).toMatchObject({ dead: 3, delivered: 0, oldestPendingSeconds: null });
    const text = await cli(["status", "--config", config]);
    expect(text.out).toMatch(/^grc\t0\t0\t0\t0\t3\t—$/m);
  });

  it("lists deliveries filtered by destination and state, with the last error", async () => {
    const dead = await cli(["outbox", "list", "--config", config, "--state", "dead"]);
    expect(dead.out.trim().split("\n")).toHaveLength(4); // a header and 3 rows
    expect(dead.out).toContain("down\tsha256:");
    expect(dead.out).toContain("attempts 1; error: find: injected outage");
    const json = JSON.parse(
      (await cli(["outbox", "list", "--config", config, "--destination", "grc", "--json"])).out,
    );
    expect(json.map((r: { state: string }) => r.state)).toEqual(["delivered", "delivered", "delivered"]);
    expect(json[0].remote.id).toMatch(/^[0-9a-f-]{36}$/);
  });

  it("names its columns and shows each record's model, version and decision from the seal index", async () => {
    const list = await cli(["outbox", "list", "--config", config, "--destination", "down"]);
    expect(list.code).toBe(0);
    const [header, ...rows] = list.out.trim().split("\n");
    expect(header).toBe("destination\trecord\tmodel\tversion\tdecision\tstate\tdetail");
    expect(rows).toHaveLength(3);
    s.records.forEach((record, i) =>
      expect(rows).toContain(
        `down\t${record}\tcredit-risk\t${i + 1}\tapproved\tdead\tattempts 1; error: find: injected outage`,
      ),
    );
    const json = JSON.parse(
      (await cli(["outbox", "list", "--config", config, "--destination", "down", "--json"])).out,
    );
    expect(json[0]).toMatchObject({ model: "credit-risk", version: "1", decision: "approved" });
  });

  it("retry puts dead deliveries back to pending, and the next push delivers them", async () => {
    const one = await cli([
      "outbox",
      "retry",
      "--config",
      config,
      "--destination",
      "down",
      "--record",
      s.records[0]!,
    ]);
    expect(one).toMatchObject({ code: 0, out: "down: 1 delivery back to pending\n" });
    const st = JSON.parse((await cli(["status", "--config", config, "--json"])).out).destinations.down;
    expect(st).toMatchObject({ pending: 1, dead: 2 });
    expect(st.oldestPendingSeconds).toBeGreaterThanOrEqual(0);
    expect((await cli(["outbox", "retry", "--config", config])).out).toBe(
      "grc: 0 deliveries back to pending\ndown: 2 deliveries back to pending\n",
    );
    await push(new FileDestination("down", `${dir}/down`));
    expect(
      JSON.parse((await cli(["status", "--config", config, "--json"])).out).destinations.down.delivered,
    ).toBe(3);
  });

  it("refuses a store path that is missing, a file, or not a store (exit 2), instead of showing zeros", async () => {
    await writeFile(join(dir, "a-file"), "not a store\n");
    const cases = [
      ["missing", join(dir, "no-such-store"), "does not exist"],
      ["a file", join(dir, "a-file"), "is a file, not a directory"],
      ["under a file", join(dir, "a-file", "store"), `is under ${join(dir, "a-file")}, which is a file`],
      ["another directory", dir, "is not a sealgate store (no ledger/ or objects/ in it)"],
    ];
    for (const [what, path, sentence] of cases) {
      const wrong = join(dir, `wrong-store-${what!.replace(/ /g, "-")}.yaml`);
      await writeFile(
        wrong,
        `mlflow: { trackingUri: "http://127.0.0.1:5000", auth: { type: none } }\nstore: { path: "${path}" }\ndestinations:\n  grc: { kind: files, dir: ${dir}/grc }\n`,
      );
      for (const args of [["status"], ["outbox", "list"], ["outbox", "retry"]]) {
        const r = await cli([...args, "--config", wrong]);
        expect({ what, args, code: r.code, out: r.out }).toEqual({ what, args, code: 2, out: "" });
        expect(r.err).toContain(`store.path ${path} ${sentence}`);
        expect(r.err).not.toContain("ENOTDIR");
      }
    }
    // A new, empty store directory is a store with nothing in it yet.
    const fresh = await mkdtemp(join(tmpdir(), "sealgate-fresh-store-"));
    await writeFile(
      join(dir, "fresh.yaml"),
      `mlflow: { trackingUri: "http://127.0.0.1:5000", auth: { type: none } }\nstore: { path: ${fresh} }\ndestinations:\n  grc: { kind: files, dir: ${dir}/grc }\n`,
    );
    expect((await cli(["status", "--config", join(dir, "fresh.yaml")])).code).toBe(0);
  });

  it("rejects bad arguments with exit code 2 and says what to write", async () => {
    const state = await cli(["outbox", "list", "--config", config, "--state", "lost"]);
    expect(state).toMatchObject({ code: 2 });
    expect(state.err).toContain("--state lost: use one of pending, in_flight, delivered, failed, dead");
    const dest = await cli(["outbox", "retry", "--config", config, "--destination", "nope"]);
    expect(dest.code).toBe(2);
    expect(dest.err).toContain("--destination nope is not in");
    expect((await cli(["outbox", "retry", "--config", config, "--record", "abc"])).code).toBe(2);
    for (const args of [["outbox", "list"], ["outbox", "retry"], ["status"]]) {
      const help = await cli([...args, "--help"]);
      expect(help.code).toBe(0);
      expect(help.out).toContain("Example:");
    }
  });
});
