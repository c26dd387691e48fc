import { SealIndex } from "../store/seal-index.js";
import { PromotionRecord } from "../../record/schema.js";
import { inclusionProof } from "../ledger/merkle.js";
import type { LedgerView } from "../ledger/view.js";
import type { EvidenceStore } from "../store/evidence-store.js";
import { type Finding, finding, findingOf } from "./findings.js";
import type { Part, SealedRecord } from "./verifier.js";

/*
 * A sealed record as a store holds it, for the Verifier: the record object, the seals the seal
 * index names, its ledger entry with an inclusion proof to the ledger's latest checkpoint.
 * What the store lacks is a finding here; whether what it has is sound is the Verifier's.
 */

export async function sealedRecordInStore(
  store: EvidenceStore,
  index: SealIndex,
  view: LedgerView,
  digest: string,
  opts: { pdf?: boolean; approvals?: boolean } = {},
): Promise<{ sealed: SealedRecord; findings: Finding[] }> {
  const findings: Finding[] = [];
  const part = async (d: string): Promise<Part<Uint8Array> | undefined> => {
    try {
      return { bytes: await store.get(d as never), where: { object: d } };
    } catch (err) {
      // A corrupt object keeps its own code; anything else the store cannot give is missing.
      findings.push(findingOf(err, "container", { object: d }, "OBJECT_MISSING"));
      return undefined;
    }
  };
  const sealed: SealedRecord = { digest };
  const record = await part(digest);
  if (record) sealed.record = record;
  if (record && opts.approvals) {
    // Which assertions to read is the record's to say; an unreadable record is the Verifier's finding.
    let json: unknown;
    try {
      json = JSON.parse(Buffer.from(record.bytes).toString("utf8"));
    } catch {
      json = undefined;
    }
    const named = PromotionRecord.safeParse(json);
    if (named.success) {
      sealed.approvals = [];
      for (const a of named.data.approvals) {
        const got = await part(a.assertion);
        if (got) sealed.approvals.push({ bytes: Buffer.from(got.bytes).toString("utf8"), where: got.where });
      }
    }
  }
  const seal = index.byRecord(digest);
  if (!seal) {
    findings.push(finding("NOT_SEALED", "container", `no signatures are indexed for record ${digest}`, {}));
  } else {
    const jws = await part(seal.jws);
    const cms = await part(seal.p7s);
    if (jws) sealed.jws = jws;
    if (cms) sealed.cms = cms;
    if (opts.pdf) {
      const pdf = await part(seal.pdf);
      if (pdf) sealed.pdf = pdf;
    }
  }
  const seq = view.seqOf.get(digest);
  if (seq === undefined) {
    findings.push(finding("NOT_IN_LEDGER", "inclusion", `record ${digest} is not in the ledger`, {}));
    return { sealed, findings };
  }
  const latest = view.latest;
  if (latest && latest.checkpoint.size > view.leaves.length) {
    findings.push(
      finding(
        "LEDGER_TRUNCATED",
        "inclusion",
        `the ledger holds ${view.leaves.length} entries but its checkpoint signed ${latest.checkpoint.size}: it was truncated`,
        { entry: seq },
      ),
    );
    return { sealed, findings };
  }
  const proof =
    latest && seq < latest.checkpoint.size ? inclusionProof(view.leaves, seq, 0, latest.checkpoint.size) : [];
  sealed.entry = { line: view.lines[seq]!, seq, proof, where: { entry: seq } };
  if (latest) sealed.checkpoint = { signed: latest.signed, where: {} };
  return { sealed, findings };
}
