import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { Destination } from "../../../src/delivery/destination/destination.js";
import { delivery, push, startSim, testDestination } from "./helpers.js";

class Crash extends Error {}

/**
 * The destination of a process that dies at its n-th remote step: just before the step, or
 * just after it took effect remotely but before the process could record the answer.
 */
function dyingAt(dest: Destination, n: number, when: "before" | "after"): Destination {
  let step = 0;
  const wrap =
    <A extends unknown[], R>(fn: (...a: A) => Promise<R>) =>
    async (...a: A): Promise<R> => {
      if (++step === n && when === "before") throw new Crash();
      const result = await fn(...a);
      if (step === n && when === "after") throw new Crash();
      return result;
    };
  return {
    ...dest,
    kind: dest.kind,
    name: dest.name,
    find: wrap(dest.find.bind(dest)),
    create: wrap(dest.create.bind(dest)),
    listFiles: wrap(dest.listFiles.bind(dest)),
    upload: wrap(dest.upload.bind(dest)),
    finish: wrap((ref, d) => dest.finish!(ref, d)),
  };
}

describe("Vanta destination: crash at any step, restart, same end state", () => {
  it("25 random crash points over 4 records: nothing lost, nothing duplicated", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 28 }),
        fc.constantFrom("before" as const, "after" as const),
        fc.boolean(),
        async (n, when, loseAnswer) => {
          const sim = await startSim({}, { tokenRequestsPerMinute: 100 });
          const first = testDestination(sim);
          const second = testDestination(sim);
          try {
            const recs = [0, 1, 2, 3].map((i) => delivery(i));
            if (loseAnswer) sim.setQuirks({ loseAnswers: { "POST /v1/documents/:id/uploads": 1 } });
            const dying = dyingAt(first.dest, n, when);
            const crashed = await (async () => {
              for (const r of recs) await push(dying, r);
            })().then(
              () => false,
              (e: unknown) => {
                if (!(e instanceof Crash)) throw e;
                return true;
              },
            );
            // Each record takes 7 steps (find, create, list, 3 uploads, submit): step n exists.
            expect(crashed).toBe(true);
            // The restarted process knows nothing but the remote state.
            for (const r of recs) await push(second.dest, r);
            const remote = sim.records();
            expect(remote.map((r) => r.correlation)).toEqual(recs.map((r) => r.correlation));
            for (const [i, r] of remote.entries()) {
              expect(r.files.map((f) => [f.name, f.sha256])).toEqual(
                recs[i]!.files.map((f) => [f.name, f.sha256]),
              );
              expect(r.fields.submitted).toBe(true);
            }
          } finally {
            await first.dest.close();
            await second.dest.close();
            await sim.close();
          }
        },
      ),
      { numRuns: 25 },
    );
  });
});
