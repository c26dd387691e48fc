import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { beforeAll, describe, expect, it } from "vitest";
import { pushOutbox } from "../../../src/delivery/engine/engine.js";
import { REPO_ROOT } from "../../../src/dev/venv.js";
import { createLogger } from "../../../src/core/log.js";
import { compileMapping } from "../../../src/delivery/mapping/compile.js";
import { readOutbox } from "../../../src/delivery/outbox/outbox.js";
import { FileDestination } from "../../support/file-destination.mjs";
import { sealedRecords } from "../../support/sealed-records.js";
import { TEST_MAPPING, TEST_TARGET } from "../../support/test-mapping.mjs";
import { expectExactlyOnce } from "./exactly-once.js";
import { readStore } from "../../../src/app/store.js";

const ROUNDS = 5;
const KILLS_PER_ROUND = 4;

/** Run the pusher child and SIGKILL it at a random point; returns what it printed. */
async function killRandomly(args: string[], trial: number) {
  const child = spawn(process.execPath, [join(REPO_ROOT, "test/support/pusher.mjs"), ...args], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  let err = "";
  child.stdout.on("data", (c: Buffer) => (out += c.toString()));
  child.stderr.on("data", (c: Buffer) => (err += c.toString()));
  const exited = new Promise((resolve) => child.on("close", resolve));
  // Some kills land during start-up; the rest once the child is pushing.
  if (trial % 4 === 0) await sleep(Math.floor(Math.random() * 500));
  else {
    for (let waited = 0; !out.includes("ready") && waited < 20_000; waited += 10) await sleep(10);
    await sleep(Math.floor(Math.random() * 600));
  }
  child.kill("SIGKILL");
  await exited;
  return { out, err };
}

describe("crash safety of delivery: SIGKILL the pusher at random points", () => {
  beforeAll(() => {
    if (!existsSync(join(REPO_ROOT, "dist/src/delivery/engine/engine.js")))
      throw new Error("dist/ is missing: run `npm run build` (npm test does) before this test");
  });

  it(`ends with every record delivered exactly once, over ${ROUNDS * KILLS_PER_ROUND} kills`, async () => {
    const progress: number[][] = [];
    let touched = 0;
    for (let round = 0; round < ROUNDS; round++) {
      const s = await sealedRecords(12);
      const remote = await mkdtemp(join(tmpdir(), "sealgate-remote-"));
      const seen: number[] = [];
      for (let k = 0; k < KILLS_PER_ROUND; k++) {
        const args = [s.root, remote, s.pki.sealing.key, s.pki.sealing.cert];
        const { err } = await killRandomly(args, round * KILLS_PER_ROUND + k);
        expect(err).toBe("");
        // Every kill leaves an outbox that can be read (a torn tail is ignored, never fatal).
        const states = [...(await readOutbox(s.root, "files")).values()];
        seen.push(states.filter((x) => x.state === "delivered").length);
        touched = Math.max(touched, states.length);
      }
      progress.push(seen);
      const dest = new FileDestination("files", remote);
      const mapping = compileMapping(TEST_MAPPING, "test", { destination: "files", target: TEST_TARGET });
      const result = await pushOutbox({
        storeRoot: s.root,
        ...readStore(s.root),
        targets: [
          {
            name: "files",
            destination: dest,
            mapping,
            queue: { concurrency: 4, perMinute: 1e5 },
            maxAttempts: 1e3,
          },
        ],
        signer: s.signer,
        logger: createLogger({ level: "silent" }),
        ignoreBackoff: true,
      });
      expect(result.files!.states.delivered).toBe(12);
      await expectExactlyOnce(s, dest);
    }
    // The children did real work between kills (not every kill hit start-up).
    expect(touched).toBeGreaterThan(0);
    console.log(`delivered after each kill, per round: ${progress.map((p) => p.join(",")).join(" | ")}`);
  }, 600_000);
});
