import { join } from "node:path";
import { z } from "zod";
import { Digest } from "../../record/schema.js";
import { SealgateError } from "../../core/errors.js";
import type { Digest as DigestString } from "../../core/digest.js";
import { RecordDecision } from "../../record/schema.js";
import { Seal } from "../../record/seal.js";
import type { EvidenceStore } from "./evidence-store.js";
import { appendJsonl, readJsonl } from "./jsonl.js";

/** What the index takes from a record: read loosely, the record's own schema is verify's to check. */
const RecordFacts = z.object({
  model: z.object({ name: z.string(), version: z.string() }),
  decision: RecordDecision,
});

/*
 * Which record sealed which review package, and where its signatures are: a cache of the
 * ledger's record entries and their seal objects (restore() rebuilds missing lines). Written (fsynced)
 * before the ledger append, so a crash between append and tag write is finished on the next
 * pass with the same record instead of sealing the package twice. Beside it, which PDF the
 * approvers read for each package, so export takes that very file instead of rendering it again.
 * Step (1) of a seal's commit; the order and each crash point's recovery: governance/seal-recovery.ts.
 */

export const SealEntry = z.strictObject({
  package: Digest,
  record: Digest,
  jws: Digest,
  p7s: Digest,
  pdf: Digest,
  model: z.string(),
  version: z.string(),
  decision: RecordDecision,
  /** The OpenSSF model-signing bundle of an approved model (none with an RSA sealing key). */
  modelSignature: Digest.optional(),
  /** The review PDF the approvers were shown, when the store holds it. */
  reviewPdf: Digest.optional(),
  /** The event objects of the sealed cycle, in ledger order; absent when its approvals were tag-carried. */
  events: z.array(Digest).min(1).optional(),
});
export type SealEntry = z.infer<typeof SealEntry>;

/** The PDF the approvers read for a review package (`sealgate review` renders and stores it). */
export const ReviewPdfEntry = z.strictObject({ package: Digest, pdf: Digest });
export type ReviewPdfEntry = z.infer<typeof ReviewPdfEntry>;

export class SealIndex {
  private constructor(
    private readonly root: string,
    private readonly byPackage: Map<string, SealEntry>,
    private readonly reviewPdfs: Map<string, string>,
  ) {}

  /** The same entries by record digest, built when first asked. */
  private recordMap: Map<string, SealEntry> | undefined;

  static async open(storeRoot: string): Promise<SealIndex> {
    const root = join(storeRoot, "index");
    // A torn last line (crash mid-write) is simply not an entry: that step is redone.
    const { items: sealed } = await readJsonl(join(root, SEALED), SealEntry, { skipInvalid: true });
    // A separate file, so a sealgate that predates it still reads sealed.jsonl whole.
    const { items: pdfs } = await readJsonl(join(root, REVIEW_PDFS), ReviewPdfEntry, { skipInvalid: true });
    return new SealIndex(
      root,
      new Map(sealed.map((e) => [e.package, e])),
      new Map(pdfs.map((e) => [e.package, e.pdf])),
    );
  }

  get(pkg: string): SealEntry | undefined {
    return this.byPackage.get(pkg);
  }

  /** Every sealed record's digest. */
  records(): string[] {
    return [...this.byPackage.values()].map((e) => e.record);
  }

  /** Every seal, in the order the packages were first sealed. */
  entries(): SealEntry[] {
    return [...this.byPackage.values()];
  }

  byRecord(record: string): SealEntry | undefined {
    this.recordMap ??= new Map([...this.byPackage.values()].map((e) => [e.record, e]));
    return this.recordMap.get(record);
  }

  async add(entry: SealEntry): Promise<void> {
    await appendJsonl(join(this.root, SEALED), [SealEntry.parse(entry)]);
    this.byPackage.set(entry.package, entry);
    this.recordMap?.set(entry.record, entry);
  }

  /**
   * Restore the lines this cache lacks for ledger record entries that name a seal object (v2):
   * the seal object names package and renderings, the record its model, version and decision.
   * v1 entries predate seal objects and cannot be restored. Returns how many lines were added.
   */
  async restore(entries: Iterable<{ record: string; seal?: string }>, store: EvidenceStore): Promise<number> {
    let added = 0;
    for (const { record, seal } of entries) {
      if (!seal || this.byRecord(record)) continue;
      const s = Seal.parse(JSON.parse(Buffer.from(await store.get(seal as DigestString)).toString("utf8")));
      const r = RecordFacts.parse(
        JSON.parse(Buffer.from(await store.get(record as DigestString)).toString("utf8")),
      );
      if (s.record !== record)
        throw new SealgateError(
          "OBJECT_CORRUPT",
          `seal object ${seal} names record ${s.record}, not ${record}`,
        );
      const { model, decision } = r;
      await this.add({
        package: s.package,
        record,
        jws: s.jws,
        p7s: s.cms,
        pdf: s.pdf,
        model: model.name,
        version: model.version,
        decision,
        ...(s.modelSignature ? { modelSignature: s.modelSignature } : {}),
        ...(s.reviewPdfs?.[0] ? { reviewPdf: s.reviewPdfs[0] } : {}),
        ...(s.events?.length ? { events: s.events } : {}),
      });
      added++;
    }
    return added;
  }

  /** The review PDF last recorded for a package (re-running review records it again). */
  reviewPdf(pkg: string): string | undefined {
    return this.reviewPdfs.get(pkg);
  }

  /** The review PDF recorded for each package (the last one, if review ran again). */
  reviewPdfEntries(): ReviewPdfEntry[] {
    return [...this.reviewPdfs].map(([pkg, pdf]) => ({ package: pkg, pdf }));
  }

  async addReviewPdf(entry: ReviewPdfEntry): Promise<void> {
    if (this.reviewPdfs.get(entry.package) === entry.pdf) return;
    await appendJsonl(join(this.root, REVIEW_PDFS), [ReviewPdfEntry.parse(entry)]);
    this.reviewPdfs.set(entry.package, entry.pdf);
  }
}

const SEALED = "sealed.jsonl";
const REVIEW_PDFS = "review-pdfs.jsonl";
