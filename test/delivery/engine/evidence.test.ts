import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { buildEvidence } from "../../../src/delivery/engine/evidence.js";
import { readDeliveryView, recordEntryAt } from "../../../src/evidence/ledger/delivery-view.js";
import { checkEvidence, verifyEvidence } from "../../../src/delivery/engine/verify-evidence.js";
import { EVIDENCE_TYP, type EvidenceBody } from "../../../src/delivery/engine/evidence.js";
import { signJws } from "../../../src/crypto/sign/jws.js";
import { canonicalBytes } from "../../../src/record/canonical.js";
import { FileLedgerReader } from "../../../src/evidence/ledger/file-ledger.js";
import { SealIndex } from "../../../src/evidence/store/seal-index.js";
import { FsObjectStore } from "../../../src/evidence/store/fs-store.js";
import { respell } from "../../support/respell.js";
import { sealedRecords, sealMore } from "../../support/sealed-records.js";

describe("evidence.json", async () => {
  const s = await sealedRecords(5);
  const store = new FsObjectStore(s.root);
  const index = await SealIndex.open(s.root);

  const build = async (seq: number) => {
    const view = await readDeliveryView(FileLedgerReader.ofStore(s.root));
    return buildEvidence({
      store,
      view,
      seq,
      seal: index.byRecord(recordEntryAt(view, seq)!.record)!,
      signer: s.signer,
    });
  };

  it("carries the record, its JWS, the approvals and an inclusion proof that all verify", async () => {
    const bytes = (await build(3))!;
    const e = await verifyEvidence(bytes, s.trust);
    expect(e.recordDigest).toBe(s.records[3]);
    expect(e.ledger).toMatchObject({ seq: 3, treeSize: 5 });
    expect(e.approvals).toHaveLength(1);
    expect(e.checkpoint.note).toContain("\n5\n");
  });

  it("rejects every single-byte change anywhere in the file", async () => {
    const bytes = Buffer.from((await build(1))!);
    await fc.assert(
      fc.asyncProperty(fc.nat(bytes.length - 1), fc.integer({ min: 1, max: 255 }), async (at, x) => {
        const bad = Buffer.from(bytes);
        bad[at] = bad[at]! ^ x;
        await expect(verifyEvidence(bad, s.trust)).rejects.toThrow();
      }),
      { numRuns: 60 },
    );
  });

  it("rejects each signature, certificate and proof hash written another way for the same bytes", async () => {
    const bytes = (await build(1))!;
    const text = Buffer.from(bytes).toString("utf8");
    const e = JSON.parse(text) as {
      evidence: {
        recordJws: { signature: string };
        approvals: string[];
        ledger: { inclusionProof: string[] };
        checkpoint: { chain: string[]; note: string };
      };
      signature: { signature: string };
    };
    const noteSignature = / ([A-Za-z0-9+/]+=*)\n$/.exec(e.evidence.checkpoint.note)![1]!;
    // [what, as written, alphabet]; a certificate or DER signature whose length is a multiple of
    // three has no unused bits, so no other spelling (the fixed-size ones below always do).
    const fields: [string, string, "base64" | "base64url"][] = [
      ["signature", e.signature.signature, "base64url"],
      ["record JWS", e.evidence.recordJws.signature, "base64url"],
      ["approval", e.evidence.approvals[0]!.split(".")[2]!, "base64url"],
      ["inclusion proof hash", e.evidence.ledger.inclusionProof[0]!, "base64"],
      ["checkpoint certificate", e.evidence.checkpoint.chain[0]!, "base64"],
      ["checkpoint signature", noteSignature, "base64"],
    ];
    const tried: string[] = [];
    for (const [what, original, alphabet] of fields) {
      if ((original.replace(/=+$/, "").length * 6) % 8 === 0) continue;
      expect(text.split(original), what).toHaveLength(2); // written in one place only
      const changed = Buffer.from(text.replace(original, respell(original, alphabet)));
      await expect(verifyEvidence(changed, s.trust), what).rejects.toThrow();
      tried.push(what);
    }
    expect(tried).toEqual(expect.arrayContaining(fields.slice(0, 4).map(([what]) => what)));
  });

  it("waits for a signed checkpoint that covers the record instead of building a proof-less file", async () => {
    const [later] = await sealMore(s, 5, 1);
    const view = await readDeliveryView(FileLedgerReader.ofStore(s.root));
    const seal = (await SealIndex.open(s.root)).byRecord(later!)!;
    expect(await buildEvidence({ store, view, seq: 5, seal, signer: s.signer })).toBeNull();
  });

  describe("findings", async () => {
    const one = JSON.parse(Buffer.from((await build(1))!).toString("utf8")).evidence as EvidenceBody;
    const other = JSON.parse(Buffer.from((await build(2))!).toString("utf8")).evidence as EvidenceBody;
    // A changed body under a fresh document signature, so only the change itself is a finding.
    const resigned = async (change: (e: EvidenceBody) => void) => {
      const e = structuredClone(one);
      change(e);
      const jws = await signJws(canonicalBytes(e, "evidence"), s.signer, EVIDENCE_TYP);
      return canonicalBytes({
        evidence: e,
        signature: { protected: jws.protected, signature: jws.signature },
      });
    };
    const findingsOf = async (bytes: Uint8Array) =>
      (await checkEvidence(bytes, s.trust)).findings.map(({ code, step, where }) => ({ code, step, where }));

    it("finds nothing in an intact document, and returns its evidence", async () => {
      const r = await checkEvidence(await resigned(() => {}), s.trust);
      expect(r.findings).toEqual([]);
      expect(r.evidence?.recordDigest).toBe(s.records[1]);
    });

    it.each<[string, (e: EvidenceBody) => void, object]>([
      [
        "a changed record",
        (e) => void (e.record.model.version = "99"),
        { code: "RECORD_INVALID", step: "container", where: { member: "evidence.record" } },
      ],
      [
        "another record's JWS",
        (e) => void (e.recordJws = other.recordJws),
        { code: "PAYLOAD_MISMATCH", step: "signatures", where: { member: "evidence.recordJws" } },
      ],
      [
        "another record's approval",
        (e) => void (e.approvals[0] = other.approvals[0]!),
        { code: "APPROVAL_MISMATCH", step: "policy", where: { member: "evidence.approvals.0" } },
      ],
      [
        "another record's ledger entry",
        (e) => void (e.ledger.entry = other.ledger.entry),
        { code: "ENTRY_MALFORMED", step: "inclusion", where: { entry: 1, member: "evidence.ledger" } },
      ],
      [
        "a proof hash of other bytes",
        (e) => void (e.ledger.inclusionProof[0] = Buffer.alloc(32, 7).toString("base64")),
        { code: "INCLUSION_INVALID", step: "inclusion", where: { entry: 1, member: "evidence.ledger" } },
      ],
      [
        "a proof hash written another way",
        (e) => void (e.ledger.inclusionProof[0] = respell(e.ledger.inclusionProof[0]!, "base64")),
        { code: "NOT_CANONICAL", step: "container", where: { member: "evidence.ledger.inclusionProof.0" } },
      ],
      [
        "a tree size other than the checkpoint's",
        (e) => void (e.ledger.treeSize += 1),
        { code: "EVIDENCE_INVALID", step: "inclusion", where: { member: "evidence.ledger.treeSize" } },
      ],
      [
        "a checkpoint note changed after signing",
        (e) => void (e.checkpoint.note = e.checkpoint.note.replace(/\n5\n/, "\n6\n")),
        { code: "SIGNATURE_INVALID", step: "signatures", where: { member: "evidence.checkpoint" } },
      ],
    ])("reports %s once, at its field", async (_what, change, expected) => {
      expect(await findingsOf(await resigned(change))).toEqual([expected]);
    });

    it("reports the document's own faults: JSON, a field, its bytes, its signature", async () => {
      expect(await findingsOf(Buffer.from("{"))).toEqual([
        { code: "EVIDENCE_INVALID", step: "container", where: {} },
      ]);
      const good = await resigned(() => {});
      const doc = JSON.parse(Buffer.from(good).toString("utf8"));
      doc.evidence.ledger.seq = -1;
      expect(await findingsOf(canonicalBytes(doc))).toEqual([
        { code: "EVIDENCE_INVALID", step: "container", where: { member: "evidence.ledger.seq" } },
      ]);
      expect(await findingsOf(Buffer.concat([Buffer.from(good), Buffer.from("\n")]))).toEqual([
        { code: "NOT_CANONICAL", step: "container", where: {} },
      ]);
      const signed = JSON.parse(Buffer.from(good).toString("utf8"));
      signed.evidence.createdAt = new Date(Date.parse(signed.evidence.createdAt) + 1000).toISOString();
      expect(await findingsOf(canonicalBytes(signed))).toEqual([
        { code: "SIGNATURE_INVALID", step: "signatures", where: { member: "signature" } },
      ]);
    });

    it("reports two independent faults as two findings, and verifyEvidence lists both", async () => {
      const bytes = await resigned((e) => {
        e.recordJws = other.recordJws;
        e.ledger.treeSize += 1;
      });
      expect(await findingsOf(bytes)).toEqual([
        { code: "PAYLOAD_MISMATCH", step: "signatures", where: { member: "evidence.recordJws" } },
        { code: "EVIDENCE_INVALID", step: "inclusion", where: { member: "evidence.ledger.treeSize" } },
      ]);
      await expect(verifyEvidence(bytes, s.trust)).rejects.toMatchObject({
        code: "EVIDENCE_INVALID",
        message: expect.stringMatching(
          /PAYLOAD_MISMATCH \(evidence\.recordJws\): .*; EVIDENCE_INVALID \(evidence\.ledger\.treeSize\): /,
        ),
      });
    });
  });
});
