import type { Digest } from "../../core/digest.js";
import type { Ledger } from "../../evidence/ledger/ledger.js";

/*
 * How a seal is committed, and how each crash point recovers. This is the one place that says
 * so; sealer.ts, seal-index.ts, file-ledger.ts and delivery/engine/work.ts point here.
 *
 * Before these steps the record and its signatures (JWS, CMS, PDF) are stored as objects. The
 * store is content-addressed, so a crash there leaves only unreferenced objects, and sealing
 * again writes the very same bytes.
 *
 *   (1) seal index: `index/sealed.jsonl` gets {package, record, jws, p7s, pdf}, fsynced. This is
 *       the intent: from here on the package is sealed by this record and no other.
 *   (2) ledger append: the record's digest becomes the next entry of `ledger/entries.log`.
 *   (3) registry tags: `sealgate.event` = the record, `sealgate.state` = the decision.
 *
 * Crash before (1): nothing names the record; the next pass evaluates the cycle again and seals
 *   it (with the same approvals, the same decision).
 * Crash between (1) and (2): the index names a record the ledger lacks. The next pass over the
 *   version finds the package in the index (sealer.ts finishEarlierSeal), finds the record
 *   missing from the ledger (finishLedgering below), appends it, and goes on to (3). Delivery never sees the
 *   record meanwhile: it reads the ledger.
 * Crash during (2): a torn last line. FileLedger.open sets it aside (file-ledger.ts, report.tornTail), so
 *   the record is unledgered again and recovers as above.
 * Crash between (2) and (3): the ledger has the record, the registry does not point at it yet.
 *   The next pass finds the package in the index and writes the tags (an "already-sealed" outcome).
 * A ledger entry with no index line (an index lost or edited by hand) cannot be recovered here:
 *   delivery refuses it with OBJECT_MISSING (deliver/work.ts sealOf) and `sealgate verify` names it.
 *
 * Checkpoints are not part of a seal: sync signs one after the pass, and the daemon signs one at
 * start-up over entries a crash left uncovered.
 */

/**
 * Recovery between (1) and (2): append the record if a crash left it out of the ledger. Which
 * records the ledger holds is the ledger's to answer (Ledger.includes: the file ledger scans
 * its entries once per open ledger, then keeps the set current as it appends), so a reopened
 * ledger, as after a crash, answers from what is on disk.
 */
export async function finishLedgering(ledger: Ledger, record: Digest): Promise<void> {
  if (!(await ledger.includes(record))) await ledger.append(record);
}
