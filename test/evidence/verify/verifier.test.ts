import { readFile } from "node:fs/promises";
import { beforeAll, describe, expect, it } from "vitest";
import { SealIndex } from "../../../src/evidence/store/seal-index.js";
import { ledgerView } from "../../../src/evidence/ledger/view.js";
import { FileLedgerReader } from "../../../src/evidence/ledger/file-ledger.js";
import { FsObjectStore } from "../../../src/evidence/store/fs-store.js";
import type { Finding } from "../../../src/evidence/verify/findings.js";
import { sealedRecordInStore } from "../../../src/evidence/verify/sealed-in-store.js";
import { type SealedRecord, Verifier } from "../../../src/evidence/verify/verifier.js";
import { type SealedStore, sealedRecords } from "../../support/sealed-records.js";

/*
 * The Verifier over a real sealed record: intact it finds nothing; each part tampered on its
 * own gives exactly one finding, with its code, its step and where, because a part that already
 * failed adds no further findings.
 */

let s: SealedStore;
let verifier: Verifier;
let first: SealedRecord;
let second: SealedRecord;

const flip = (b: Uint8Array, at: number) => {
  const c = Buffer.from(b);
  c[at] = c[at]! ^ 1;
  return c;
};

async function load(digest: string) {
  const store = new FsObjectStore(s.root);
  const view = await ledgerView(FileLedgerReader.ofStore(s.root));
  const { sealed, findings } = await sealedRecordInStore(store, await SealIndex.open(s.root), view, digest, {
    pdf: true,
    approvals: true,
  });
  expect(findings).toEqual([]);
  return sealed;
}

const verify = async (r: SealedRecord): Promise<Finding[]> =>
  (await verifier.verify(r, { approvals: true })).findings;
const one = (f: Finding[]) => {
  expect(f).toHaveLength(1);
  return f[0]!;
};

beforeAll(async () => {
  s = await sealedRecords(2);
  verifier = new Verifier(s.trust);
  first = await load(s.records[0]!);
  second = await load(s.records[1]!);
}, 600_000);

describe("Verifier", () => {
  it("finds nothing in an intact sealed record", async () => {
    expect(await verify(first)).toEqual([]);
    expect(await verify(second)).toEqual([]);
  });

  it("reports a changed record once, in the container step, at its object", async () => {
    const r = first.record!;
    const f = one(await verify({ ...first, record: { ...r, bytes: flip(r.bytes, 20) } }));
    expect(f).toMatchObject({ code: "RECORD_INVALID", step: "container", where: { object: s.records[0] } });
  });

  it("reports a changed JWS signature in the signatures step", async () => {
    const jws = JSON.parse(Buffer.from(first.jws!.bytes).toString("utf8"));
    const sig = Buffer.from(jws.signature, "base64url");
    jws.signature = flip(sig, 5).toString("base64url");
    const f = one(
      await verify({ ...first, jws: { ...first.jws!, bytes: Buffer.from(JSON.stringify(jws)) } }),
    );
    expect(f).toMatchObject({ code: "SIGNATURE_INVALID", step: "signatures", where: first.jws!.where });
  });

  it("reports a JWS over another record as a payload mismatch", async () => {
    const f = one(await verify({ ...first, jws: second.jws! }));
    expect(f).toMatchObject({ code: "PAYLOAD_MISMATCH", step: "signatures", where: second.jws!.where });
  });

  it("reports a CMS seal over another record", async () => {
    const f = one(await verify({ ...first, cms: second.cms! }));
    expect(f).toMatchObject({ code: "SIGNATURE_INVALID", step: "signatures", where: second.cms!.where });
  });

  it("reports a changed PDF", async () => {
    const pdf = first.pdf!;
    const f = one(await verify({ ...first, pdf: { ...pdf, bytes: flip(pdf.bytes, 200) } }));
    expect(f).toMatchObject({ code: "SIGNATURE_INVALID", step: "signatures", where: pdf.where });
  });

  it("hands back each approval it verified, at the record's index, and none it refused", async () => {
    const { approvals } = await verifier.verify(first, { approvals: true });
    expect(approvals).toHaveLength(first.approvals!.length);
    expect(approvals.map((a) => a?.jws)).toEqual(first.approvals!.map((a) => a.bytes));
    const [a0, ...rest] = first.approvals!;
    const sig = a0!.bytes.slice(-10);
    const forged = {
      ...a0!,
      bytes: `${a0!.bytes.slice(0, -10)}${sig === "A".repeat(10) ? "B" : "A"}${sig.slice(1)}`,
    };
    // The forged assertion is no longer the one the record names: refused, not handed back.
    const refused = await verifier.verify({ ...first, approvals: [forged, ...rest] }, { approvals: true });
    expect(refused.approvals[0]).toBeUndefined();
    expect(refused.approvals.slice(1).map((a) => a?.jws)).toEqual(rest.map((a) => a.bytes));
    expect(await verifier.verify(first, { approvals: false })).toMatchObject({ approvals: [] });
  });

  it("reports an approval that is not the one the record names", async () => {
    const f = one(await verify({ ...first, approvals: second.approvals! }));
    expect(f).toMatchObject({
      code: "APPROVAL_MISMATCH",
      step: "policy",
      where: second.approvals![0]!.where,
    });
  });

  it("reports a seal by a certificate other than the sealer's, once per seal", async () => {
    const pem = await readFile(s.pki.approvers[0]!.cert, "utf8");
    const other = Buffer.from(pem.replace(/-----[^-]+-----|\s/g, ""), "base64");
    const f = await verify({ ...first, sealer: other });
    expect(f.map((x) => [x.code, x.step, x.where.object])).toEqual([
      ["SIGNER_MISMATCH", "certificates", first.jws!.where.object],
      ["SIGNER_MISMATCH", "certificates", first.cms!.where.object],
      ["SIGNER_MISMATCH", "certificates", first.pdf!.where.object],
    ]);
  });

  it("reports a broken inclusion proof at the entry", async () => {
    const e = first.entry!;
    const f = one(await verify({ ...first, entry: { ...e, proof: e.proof.map((h) => flip(h, 0)) } }));
    expect(f).toMatchObject({ code: "INCLUSION_INVALID", step: "inclusion", where: { entry: e.seq } });
  });

  it("reports another record's ledger entry", async () => {
    const f = one(await verify({ ...first, entry: second.entry! }));
    expect(f).toMatchObject({
      code: "ENTRY_MALFORMED",
      step: "inclusion",
      where: { entry: second.entry!.seq },
    });
  });

  it("reports a re-signed checkpoint in the signatures step and leaves inclusion unjudged", async () => {
    const c = first.checkpoint as { signed: { note: string; chain: string[] }; where: object };
    const note = c.signed.note.replace(/\n2\n/, "\n3\n");
    expect(note).not.toBe(c.signed.note);
    const f = one(await verify({ ...first, checkpoint: { ...c, signed: { ...c.signed, note } } }));
    expect(f).toMatchObject({ code: "SIGNATURE_INVALID", step: "signatures", where: {} });
  });

  it("reports a record with no checkpoint yet", async () => {
    const { checkpoint: _c, ...rest } = first;
    const f = one(await verify(rest));
    expect(f).toMatchObject({
      code: "NOT_CHECKPOINTED",
      step: "inclusion",
      where: { entry: first.entry!.seq },
    });
  });
});
