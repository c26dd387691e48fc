import { readFile, truncate, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { TAGS } from "../../src/governance/cycle/tags.js";
import { gate } from "../../src/governance/gate/gate.js";
import { SealIndex } from "../../src/evidence/store/seal-index.js";
import { FsObjectStore } from "../../src/evidence/store/fs-store.js";
import { FileLedgerReader } from "../../src/evidence/ledger/file-ledger.js";
import type { RegistrySource } from "../../src/source/registry-source.js";
import { PromotionRecord } from "../../src/record/schema.js";
import { type SealedStore, sealedRecords, sealMore } from "../support/sealed-records.js";

/*
 * The gate over real sealed records, with a registry that answers what the test says: the
 * seals and the inclusion proof are judged by the Verifier, and each fault denies with its own
 * typed finding and sentence.
 */

async function gateOn(s: SealedStore, i: number, opts: { content?: string; target?: string } = {}) {
  const store = new FsObjectStore(s.root);
  const digest = s.records[i]!;
  const record = PromotionRecord.parse(JSON.parse(Buffer.from(await store.get(digest as never)).toString()));
  const source = {
    version: async () => ({ tags: { [TAGS.event]: digest } }),
    modelFiles: async () => ({}),
    hashModel: async () => ({ root: opts.content ?? record.model.contentDigest }),
  } as unknown as RegistrySource;
  const deps = {
    source,
    store,
    ledger: FileLedgerReader.ofStore(s.root),
    index: await SealIndex.open(s.root),
    trust: s.trust,
    now: () => new Date(Date.parse(record.sealedAt) + 60_000),
  };
  return gate(deps, record.model.name, record.model.version, { target: opts.target ?? "prod-eu" });
}

const brief = (r: Awaited<ReturnType<typeof gate>>) =>
  r.findings.map(({ code, step, where }) => ({ code, step, where }));

describe("the gate's findings", () => {
  it("allows an intact, covered, approved record with no findings", async () => {
    const s = await sealedRecords(2);
    expect(await gateOn(s, 1)).toMatchObject({
      allowed: true,
      record: s.records[1],
      findings: [],
      reasons: [],
    });
  });

  it("denies changed bytes and a target the model card does not declare, as policy findings", async () => {
    const s = await sealedRecords(2);
    const r = await gateOn(s, 0, { content: `sha256:${"e".repeat(64)}`, target: "prod-us" });
    expect(r.allowed).toBe(false);
    expect(brief(r)).toEqual([
      { code: "TARGET_NOT_ALLOWED", step: "policy", where: {} },
      { code: "CONTENT_CHANGED", step: "policy", where: {} },
    ]);
    expect(r.reasons[1]).toMatch(/^CONTENT_CHANGED: .*the artefact bytes changed after sealing$/);
  });

  it("denies a record missing from the ledger, and one in a truncated ledger", async () => {
    const s = await sealedRecords(2);
    const entries = join(s.root, "ledger", "entries.log");
    const first = (await readFile(entries, "utf8")).indexOf("\n") + 1;
    await truncate(entries, first);
    const missing = await gateOn(s, 1);
    expect(brief(missing)).toEqual([{ code: "NOT_IN_LEDGER", step: "inclusion", where: {} }]);
    expect(missing.reasons).toEqual([`NOT_IN_LEDGER: record ${s.records[1]} is not in the ledger`]);
    const truncated = await gateOn(s, 0);
    expect(brief(truncated)).toEqual([{ code: "LEDGER_TRUNCATED", step: "inclusion", where: { entry: 0 } }]);
    expect(truncated.reasons[0]).toContain(
      "the ledger holds 1 entries but its checkpoint signed 2: it was truncated",
    );
  });

  it("denies a record no signed checkpoint covers yet", async () => {
    const s = await sealedRecords(2);
    s.records.push(...(await sealMore(s, 2, 1)));
    const r = await gateOn(s, 2);
    expect(brief(r)).toEqual([{ code: "NOT_CHECKPOINTED", step: "inclusion", where: { entry: 2 } }]);
    expect(r.reasons[0]).toContain("the signed checkpoint (size 2) does not cover entry 2 yet");
  });

  it("denies when the checkpoint's signature does not verify", async () => {
    const s = await sealedRecords(2);
    const path = join(s.root, "ledger", "checkpoints.log");
    const line = JSON.parse((await readFile(path, "utf8")).trim()) as { note: string; chain: string[] };
    // One second later: still a well-formed note, no longer the one that was signed.
    line.note = line.note.replace(
      /^time (.*)$/m,
      (_, t: string) => `time ${new Date(Date.parse(t) + 1000).toISOString()}`,
    );
    await writeFile(path, `${JSON.stringify(line)}\n`);
    const r = await gateOn(s, 0);
    expect(brief(r)).toEqual([{ code: "SIGNATURE_INVALID", step: "signatures", where: {} }]);
    expect(r.reasons[0]).toMatch(/^SIGNATURE_INVALID: checkpoint at size 2: signature does not verify$/);
  });

  it("denies a record whose JWS is another record's, once, in the signatures step", async () => {
    const s = await sealedRecords(2);
    const index = await SealIndex.open(s.root);
    const [a, b] = [index.byRecord(s.records[0]!)!, index.byRecord(s.records[1]!)!];
    await index.add({ ...a, jws: b.jws });
    const r = await gateOn(s, 0);
    expect(brief(r)).toEqual([{ code: "PAYLOAD_MISMATCH", step: "signatures", where: { object: b.jws } }]);
  });
});
