import { type Ledger, parseEntry, readLines } from "../../evidence/ledger/ledger.js";
import type { Digest } from "../../core/digest.js";
import type { SealIndex } from "../../evidence/store/seal-index.js";

/*
 * How a seal is committed, and how each crash point recovers. This is the one place that says
 * so; sealer.ts, seal-index.ts, ledger.ts and deliver/work.ts point here.
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
 *   version finds the package in the index (sealer.ts finishEarlierSeal), sees the record in this
 *   journal's set of unledgered records, appends it, and goes on to (3). Delivery never sees the
 *   record meanwhile: it reads the ledger.
 * Crash during (2): a torn last line. Ledger.open sets it aside (ledger.ts, report.tornTail), so
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
 * The records the seal index names that the ledger lacks, i.e. the seals a crash left between
 * steps (1) and (2). One per open Ledger: found with one scan of the ledger when first asked (not
 * one scan per version a sync pass revisits), then kept current by `append`, the only writer.
 */
export class SealJournal {
  private static readonly byLedger = new WeakMap<Ledger, SealJournal>();
  private missing: Promise<Set<string>> | null = null;

  private constructor(
    private readonly ledger: Ledger,
    private readonly index: SealIndex,
  ) {}

  /** The journal of this open ledger (a reopened ledger gets a fresh one, scanned anew). */
  static of(ledger: Ledger, index: SealIndex): SealJournal {
    let journal = SealJournal.byLedger.get(ledger);
    if (!journal) {
      journal = new SealJournal(ledger, index);
      SealJournal.byLedger.set(ledger, journal);
    }
    return journal;
  }

  /** Records sealed in the index but not yet in the ledger. */
  unledgered(): Promise<Set<string>> {
    if (!this.missing) {
      const missing = (async () => {
        const records = new Set(this.index.records());
        for await (const { line, complete } of readLines(`${this.ledger.dir}/entries.log`)) {
          const record = complete ? parseEntry(line)?.record : undefined;
          if (record) records.delete(record);
        }
        return records;
      })();
      this.missing = missing;
      missing.catch(() => {
        if (this.missing === missing) this.missing = null;
      });
    }
    return this.missing;
  }

  /** Step (2): append a record already in the index. */
  async append(record: Digest): Promise<void> {
    const missing = await this.unledgered();
    missing.add(record);
    try {
      await this.ledger.append(record);
    } catch (err) {
      // The line may or may not be on disk: the next pass scans the ledger again.
      this.missing = null;
      throw err;
    }
    missing.delete(record);
  }

  /** Recovery between (1) and (2): append the record if a crash left it out of the ledger. */
  async finish(record: Digest): Promise<void> {
    if ((await this.unledgered()).has(record)) await this.append(record);
  }
}
