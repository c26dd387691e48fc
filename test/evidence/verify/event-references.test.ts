import { rm } from "node:fs/promises";
import { describe, expect, it } from "vitest";
import { verifyParts } from "../../../src/app/store.js";
import { verifyStore } from "../../../src/evidence/verify/store.js";
import { appendEvent } from "../../../src/governance/events/append.js";
import { eventFixture } from "../../support/events.js";

/*
 * verify --store walks an event entry to what the event names (the approval assertion, the
 * package), so those are neither unreferenced nor unchecked; an event object that is not a
 * well-formed, canonical, correctly signed event is a finding pinned to its entry.
 */

const codes = (fs: { code: string }[]) => fs.map((f) => f.code);

describe("verify --store and event entries", () => {
  it("follows an event's assertion and package: nothing unreferenced, a missing one named with its entry", async () => {
    const f = await eventFixture();
    const signed = await f.decision(new Date());
    await appendEvent(f.deps, signed.jws);
    await f.ledger.close();
    const clean = await verifyStore(await verifyParts(f.dir), { trust: f.trust });
    expect(clean.findings).toEqual([]);
    expect(codes(clean.warnings)).not.toContain("OBJECT_UNREFERENCED");

    // The assertion goes missing: the event entry that names it is reported.
    const payload = JSON.parse(Buffer.from(signed.jws.split(".")[1]!, "base64url").toString()) as {
      assertion: string;
    };
    await rm(f.store.pathOf(payload.assertion as never));
    const missing = await verifyStore(await verifyParts(f.dir), { trust: f.trust });
    expect(missing.findings).toMatchObject([
      { code: "OBJECT_MISSING", where: { entry: 0, object: payload.assertion, member: "event.assertion" } },
    ]);
  });

  it("reports an event object whose signature does not verify, pinned to its entry", async () => {
    const f = await eventFixture();
    const good = await f.decision(new Date());
    await appendEvent(f.deps, good.jws);
    // Stored under its own digest (so the store's re-hash passes) and appended around appendEvent.
    const [h, p, s] = good.jws.split(".");
    const forged = `${h}.${p}.${s!.startsWith("A") ? "B" : "A"}${s!.slice(1)}`;
    const object = await f.store.put(Buffer.from(forged));
    await f.ledger.append({ kind: "event", object });
    const notAnEvent = await f.store.put(Buffer.from("{}"));
    await f.ledger.append({ kind: "event", object: notAnEvent });
    await f.ledger.close();
    const report = await verifyStore(await verifyParts(f.dir), { trust: f.trust });
    expect(report.findings.map((x) => [x.code, x.where.entry, x.where.object])).toEqual([
      ["SIGNATURE_INVALID", 1, object],
      ["SIGNATURE_MALFORMED", 2, notAnEvent],
    ]);
  });
});
