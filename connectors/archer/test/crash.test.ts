import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ArcherSimulator } from "../simulator/server.js";
import { delivery, destination, file, push, startSim } from "./helpers.js";

/*
 * A crash before any HTTP request of a delivery, at every point in turn: the process that
 * crashed is abandoned, a fresh one runs the same delivery, and Archer must end with exactly
 * one record holding every file once. (Crashes after Archer acted but before the answer
 * arrived are the simulator's "reset-after" faults, covered in quirks and push200.)
 */

class Crash extends Error {}

let sim: ArcherSimulator;
beforeAll(async () => {
  sim = await startSim();
});
afterAll(async () => {
  await sim.close();
});

describe("crash at every request of a delivery, then restart", () => {
  it("never loses or duplicates a record or a file", async () => {
    const names = ["evidence.json", "record.json", "record.jws", "record.p7s", "record.pdf"];
    // Requests a fresh process makes for one delivery (login and metadata included): each is a crash point.
    let requestsSeen = 0;
    const counting = destination(sim, { beforeRequest: () => void requestsSeen++ });
    await push(
      counting,
      delivery(
        999,
        names.map((n) => file(n, `${n} of the clean run`)),
      ),
    );
    const clean = requestsSeen; // before close: its logout is not part of the delivery
    await counting.close();
    expect(clean).toBeLessThan(40);
    let crashedSomewhere = 0;
    for (let crashAt = 1; crashAt <= 40; crashAt++) {
      const d = delivery(
        1000 + crashAt,
        names.map((n) => file(n, `${n} of trial ${crashAt}`)),
      );
      let requests = 0;
      const doomed = destination(sim, {
        beforeRequest: () => {
          if (++requests === crashAt) throw new Crash(`crash before request ${crashAt}`);
        },
      });
      const outcome = await push(doomed, d).catch((err: unknown) => err);
      if (outcome instanceof Crash) crashedSomewhere++;
      else expect(typeof outcome).toBe("string"); // ran to completion before the crash point
      await doomed.close(); // frees sockets; a real crash would not log out, which changes no record
      const restarted = destination(sim);
      await push(restarted, d);
      await restarted.close();
      const matches = sim.records().filter((r) => r.correlation === d.correlation);
      expect(matches, `crash at ${crashAt}`).toHaveLength(1);
      expect(matches[0]?.files.map((f) => f.name).sort(), `crash at ${crashAt}`).toEqual([...names].sort());
      expect(new Set(matches[0]?.files.map((f) => f.sha256)).size).toBe(names.length);
    }
    expect(crashedSomewhere).toBe(clean);
    // Crashes between storing an attachment and linking it leave unlinked attachments behind:
    // invisible on every record (checked above), so an acceptable leftover, not a duplicate.
    expect(sim.orphans()).toBeGreaterThan(0);
  });
});
