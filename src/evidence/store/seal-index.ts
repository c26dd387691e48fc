import { join } from "node:path";
import { z } from "zod";
import { Digest } from "../../record/schema.js";
import { appendJsonl, readJsonl } from "./jsonl.js";

/*
 * Which record sealed which review package, and where its signatures are. Written (fsynced)
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
  decision: z.enum(["approved", "rejected"]),
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
    for (const e of this.byPackage.values()) if (e.record === record) return e;
    return undefined;
  }

  async add(entry: SealEntry): Promise<void> {
    await appendJsonl(join(this.root, SEALED), [SealEntry.parse(entry)]);
    this.byPackage.set(entry.package, entry);
  }

  /** The review PDF last recorded for a package (re-running review records it again). */
  reviewPdf(pkg: string): string | undefined {
    return this.reviewPdfs.get(pkg);
  }

  async addReviewPdf(entry: ReviewPdfEntry): Promise<void> {
    if (this.reviewPdfs.get(entry.package) === entry.pdf) return;
    await appendJsonl(join(this.root, REVIEW_PDFS), [ReviewPdfEntry.parse(entry)]);
    this.reviewPdfs.set(entry.package, entry.pdf);
  }
}

const SEALED = "sealed.jsonl";
const REVIEW_PDFS = "review-pdfs.jsonl";
