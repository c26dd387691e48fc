import { readFile, truncate } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { Digest } from "../../src/core/digest.js";
import { fingerprint } from "../../src/crypto/pki/x509.js";
import { signApproval } from "../../src/crypto/sign/approval.js";
import { signEvent } from "../../src/crypto/sign/event.js";
import { loadSigner } from "../../src/crypto/sign/load.js";
import { FileLedger } from "../../src/evidence/ledger/file-ledger.js";
import type { StoredEntry } from "../../src/evidence/ledger/ledger.js";
import { appendEvent } from "../../src/governance/events/append.js";
import { SealIndex } from "../../src/evidence/store/seal-index.js";
import { verifyStore } from "../../src/evidence/verify/store.js";
import { verifyParts } from "../../src/app/store.js";
import type { PromotionRecord } from "../../src/record/schema.js";
import { Seal } from "../../src/record/seal.js";
import { cloneModel, MATERIAL_CHAIN, workspace } from "../support/workflow.js";

/*
 * Workflow events on the real MLflow server: `approve` appends its decision to the ledger at once
 * (the tag becomes a mirror), and the sealer takes a cycle's decisions from the ledger in ledger
 * order, judged at each entry's append time, naming the cycle's events in the seal object. A cycle
 * with no events is sealed from its tags, and its seal object has no `events`.
 */

type Ws = Awaited<ReturnType<typeof workspace>>;
let open: Ws[] = [];
afterEach(async () => {
  for (const w of open) await w.close();
  open = [];
});
const ws = async () => {
  const w = await workspace();
  open.push(w);
  return w;
};

async function entries(ledger: FileLedger): Promise<StoredEntry[]> {
  const out: StoredEntry[] = [];
  for await (const b of ledger.read()) out.push(...b);
  return out;
}

const sealOf = async (w: Ws, record: string) => {
  const line = (await SealIndex.open(w.deps.store.root)).byRecord(record as Digest)!;
  const [entry] = (await entries(w.deps.ledger)).filter((e) => e.object === line.record);
  return Seal.parse(JSON.parse(Buffer.from(await w.deps.store.get(entry!.seal!)).toString()));
};

describe("workflow events in the ledger", () => {
  it("approve appends its event at once, mirrors it in a tag, and the sealer names the cycle's events", async () => {
    const w = await ws();
    const name = await cloneModel(w.client, "credit-risk", ["1", "3"], "1");
    // The lock is free (no daemon, no sync): review and approve append directly.
    await w.deps.ledger.close();
    const reviewed = (await w.review(name, "2", "adds tenure_months")) as unknown as { event: string };
    expect(reviewed.event).toMatch(
      /^review-opened appended to the ledger as entry #0 at .*: event (sha256:[0-9a-f]{64})$/,
    );
    const digests: string[] = [/event (sha256:[0-9a-f]{64})$/.exec(reviewed.event)![1]!];
    const li = w.person("li.lei@example.org");
    const asked = await w.run([
      "comment",
      "--model",
      name,
      "--version",
      "2",
      "--section",
      "dataset",
      "--clarification",
      "--text",
      "Which months does the eval set cover?",
      "--key",
      li.key,
      "--cert",
      li.cert,
      "--json",
    ]);
    expect(asked.err).toBe("");
    const comment = (JSON.parse(asked.out) as { event: { via: string; seq: number; digest: string } }).event;
    expect(comment).toMatchObject({ via: "ledger", seq: 1 });
    digests.push(comment.digest);
    for (const [i, [role, email]] of MATERIAL_CHAIN.entries()) {
      if (i === 2) {
        // A decision that cannot reach the ledger now (it is held, no daemon answers) is refused:
        // this cycle's decisions are in the ledger, where a tag-only one would never count.
        const held = await FileLedger.open(join(w.deps.store.root, "ledger"));
        const late = await w.approve(name, "2", role, email);
        await held.close();
        expect(late.code).toBe(2);
        expect(late.err).toContain("this cycle's decisions are in the ledger");
        expect(
          Object.keys(await w.tags(name, "2")).filter((k) => k.startsWith("sealgate.approval.")),
        ).toHaveLength(2);
      }
      const r = await w.approve(name, "2", role, email, "approve", "--json");
      expect(r.err).toBe("");
      const out = JSON.parse(r.out) as { tag: string; event: { via: string; seq: number; digest: string } };
      expect(out.event).toMatchObject({ via: "ledger", seq: i + 2 });
      digests.push(out.event.digest);
      // The tag mirrors the event: the event digest beside the statement, under the same id.
      const mirror = `sealgate.events.${out.tag.slice("sealgate.approval.".length)}`;
      expect((await w.tags(name, "2"))[mirror]).toBe(out.event.digest);
    }
    w.deps.ledger = await FileLedger.open(join(w.deps.store.root, "ledger"));
    const log = await entries(w.deps.ledger);
    expect(log.map((e) => [e.kind, e.object])).toEqual(digests.map((d) => ["event", d]));

    const sealed = await w.seal(name, "2");
    expect(sealed).toMatchObject({ outcome: "sealed", decision: "approved" });
    const seal = await sealOf(w, (sealed as { record: string }).record);
    expect(seal.events).toEqual(digests);
    // The clarification request reaches the record through its event, not its tag.
    const record = JSON.parse(
      Buffer.from(await w.deps.store.get((sealed as { record: string }).record as Digest)).toString(),
    ) as PromotionRecord;
    expect(record.annotations.map((a) => [a.kind, a.identity.email])).toEqual([
      ["clarification-request", "li.lei@example.org"],
    ]);
    // Every event, the assertion each names and the review PDF are reached from the ledger. The
    // one object nothing reaches is the refused decision's assertion, stored before its refusal.
    const report = await verifyStore(await verifyParts(w.deps.store.root), { trust: w.trust });
    expect(report.findings).toEqual([]);
    const unreferenced = report.warnings.filter((x) => x.code === "OBJECT_UNREFERENCED");
    expect(unreferenced).toHaveLength(1);
    const stray = Buffer.from(await w.deps.store.get(unreferenced[0]!.where.object as Digest)).toString();
    expect(JSON.parse(Buffer.from(stray.split(".")[1]!, "base64url").toString())).toMatchObject({
      role: "fair-lending",
    });
  });

  it("orders decisions by the ledger: an approval claiming an earlier signedAt but appended later counts as later", async () => {
    const w = await ws();
    const name = await cloneModel(w.client, "credit-risk", ["1", "3"], "1");
    const { package: pkg } = await w.review(name, "2", "adds tenure_months");
    const sealingPrint = await fingerprint(w.deps.signer.chain[0]!);
    const deps = { ...w.deps, sealing: [sealingPrint], maxClockSkew: 300 };
    const now = Date.now();
    // Model-risk's clock claims 4 minutes before data-governance's, but it acted after.
    const claims: Record<string, number> = { "model-risk": now - 240_000 };
    for (const [role, email] of MATERIAL_CHAIN) {
      const p = w.person(email);
      const signer = await loadSigner({ type: "pem", key: p.key, cert: p.cert }, "k", {});
      const at = new Date(claims[role] ?? now).toISOString();
      const jws = await signApproval(
        {
          type: "sealgate.approval/1",
          model: name,
          version: "2",
          packageDigest: pkg,
          role,
          decision: "approve",
          comment: "",
          conditions: [],
          signedAt: at,
        },
        signer,
      );
      const assertion = await w.deps.store.put(Buffer.from(jws));
      const event = await signEvent(
        {
          type: "sealgate.event/1",
          kind: "approval",
          model: name,
          version: "2",
          cycle: 1,
          actor: email,
          claimedTime: at,
          package: pkg as Digest,
          role,
          assertion,
        },
        signer,
      );
      await appendEvent(deps, event.jws);
    }
    // A rejection planted in the tags, as anyone with edit rights on MLflow could: the cycle has
    // ledger events, so tags are not read.
    await w.plant(name, "2", "ai-committee", "layla.haddad@example.org", "reject");

    const sealed = await w.seal(name, "2");
    expect(sealed).toMatchObject({ outcome: "sealed", decision: "approved" });
    const record = JSON.parse(
      Buffer.from(await w.deps.store.get((sealed as { record: string }).record as Digest)).toString(),
    ) as PromotionRecord;
    expect(record.approvals.map((a) => a.role)).toEqual(MATERIAL_CHAIN.map(([r]) => r));
    // The record shows what each signer claimed, even where it runs against ledger order.
    expect(record.approvals[1]!.signedAt < record.approvals[0]!.signedAt).toBe(true);
    const record0 = (sealed as { record: string }).record;
    const seal0 = (await entries(w.deps.ledger)).at(-1)!.seal;
    expect((await sealOf(w, record0)).events).toHaveLength(MATERIAL_CHAIN.length);

    // A crash between the index write and the ledger append (the record's entry lost): the next
    // pass appends it again naming the very same seal object, its events included.
    await w.deps.ledger.close();
    const log = join(w.deps.store.root, "ledger", "entries.log");
    const lines = (await readFile(log, "utf8")).split("\n");
    await truncate(log, Buffer.byteLength(lines.slice(0, MATERIAL_CHAIN.length).join("\n")) + 1);
    w.deps.ledger = await FileLedger.open(join(w.deps.store.root, "ledger"));
    expect(w.deps.ledger.size).toBe(MATERIAL_CHAIN.length);
    expect(await w.seal(name, "2")).toMatchObject({ outcome: "already-sealed", record: record0 });
    expect((await entries(w.deps.ledger)).at(-1)).toMatchObject({
      kind: "record",
      object: record0,
      seal: seal0,
    });
  });

  it("seals a cycle with no events from its tags, and its seal object has no events (tag-carried)", async () => {
    const w = await ws();
    const name = await cloneModel(w.client, "credit-risk", ["1", "3"], "1");
    await w.review(name, "2", "adds tenure_months");
    // The workspace holds the ledger and no daemon answers: approve falls back to the tag alone.
    for (const [role, email] of MATERIAL_CHAIN) {
      const r = await w.approve(name, "2", role, email);
      expect(r.err).toBe("");
      expect(r.out).toContain("not in the ledger");
    }
    expect(w.deps.ledger.size).toBe(0);
    const sealed = await w.seal(name, "2");
    expect(sealed).toMatchObject({ outcome: "sealed", decision: "approved" });
    expect((await sealOf(w, (sealed as { record: string }).record)).events).toBeUndefined();
  });
});
