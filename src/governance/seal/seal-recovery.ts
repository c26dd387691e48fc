import type { Digest } from "../../core/digest.js";
import type { Ledger } from "../../evidence/ledger/ledger.js";
import type { EvidenceStore } from "../../evidence/store/evidence-store.js";
import type { SealEntry } from "../../evidence/store/seal-index.js";
import { SEAL_TYPE, sealBytes } from "../../record/seal.js";

/*
 * How a seal is committed, and how each crash point recovers. This is the one place that says
 * so; sealer.ts, seal-index.ts, file-ledger.ts and delivery/engine/work.ts point here.
 *
 * Before these steps the record, its signatures (JWS, CMS, PDF), the review package and the
 * policy are stored as objects. The store is content-addressed, so a crash there leaves only
 * unreferenced objects (`verify --store` warns of them), and sealing again writes the very same
 * bytes for all but the record's renderings.
 *
 *   (0) seal object: `sealgate.seal/1` naming record, JWS, CMS, PDF, package and policy (and the
 *       model signature of an approved record, and the review PDF the approvers read), stored.
 *       Its bytes follow from the index line of (1) and the record's policy digest alone, so
 *       recovery rebuilds the very same object (storeSealObject).
 *   (1) seal index: `index/sealed.jsonl` gets {package, record, jws, p7s, pdf}, fsynced. This is
 *       the intent: from here on the package is sealed by this record and no other.
 *   (2) ledger append: {kind "record", object: the record, seal: the seal object} becomes the
 *       next entry of `ledger/entries.log`.
 *   (3) registry tags: `sealgate.event` = the record, `sealgate.state` = the decision.
 *
 * Crash before (1): nothing names the record; the next pass evaluates the cycle again and seals
 *   it (with the same approvals, the same decision); the first attempt's objects stay unreferenced.
 * Crash between (1) and (2): the index names a record the ledger lacks. The next pass over the
 *   version finds the package in the index (sealer.ts finishEarlierSeal), finds the record
 *   missing from the ledger (finishLedgering below), stores the seal object again (a no-op if
 *   (0) completed) and appends, and goes on to (3). Delivery never sees the record meanwhile:
 *   it reads the ledger.
 * Crash during (2): a torn last line. FileLedger.open sets it aside (file-ledger.ts, report.tornTail), so
 *   the record is unledgered again and recovers as above.
 * Crash between (2) and (3): the ledger has the record, the registry does not point at it yet.
 *   The next pass finds the package in the index and writes the tags (an "already-sealed" outcome).
 * A ledger entry with no index line (an index lost or edited by hand): the index is a cache of
 *   the ledger's record entries and their seal objects, and SealIndex.rebuild restores the line
 *   (delivery does so before it refuses: delivery/engine/engine.ts). A v1 entry (before seal
 *   objects) cannot be restored this way: delivery refuses it with OBJECT_MISSING
 *   (deliver/work.ts sealOf) and `sealgate verify` names it.
 *
 * Checkpoints are not part of a seal: sync signs one after the pass, and the daemon signs one at
 * start-up over entries a crash left uncovered.
 */

/** Step (0): store the seal object of an index line; the same line always gives the same bytes. */
export function storeSealObject(store: EvidenceStore, entry: SealEntry, policy: string): Promise<Digest> {
  return store.put(
    sealBytes({
      type: SEAL_TYPE,
      record: entry.record,
      jws: entry.jws,
      cms: entry.p7s,
      pdf: entry.pdf,
      package: entry.package,
      policy,
      ...(entry.modelSignature ? { modelSignature: entry.modelSignature } : {}),
      ...(entry.reviewPdf ? { reviewPdfs: [entry.reviewPdf] } : {}),
      ...(entry.events?.length ? { events: entry.events } : {}),
    }),
  );
}

/**
 * Recovery between (1) and (2): append the record, with its seal object, if a crash left it out
 * of the ledger. Which objects the ledger holds is the ledger's to answer (Ledger.includes: the
 * file ledger reads them as it opens, then keeps the set current as it appends), so a reopened
 * ledger, as after a crash, answers from what is on disk.
 */
export async function finishLedgering(
  d: { ledger: Ledger; store: EvidenceStore },
  entry: SealEntry,
  policy: string,
): Promise<void> {
  if (await d.ledger.includes(entry.record as Digest)) return;
  const seal = await storeSealObject(d.store, entry, policy);
  await d.ledger.append({ kind: "record", object: entry.record as Digest, seal });
}
