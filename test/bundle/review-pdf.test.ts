import { rm } from "node:fs/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { verifyBundle } from "../../src/bundle/verify.js";
import { readZip } from "../../src/bundle/zip-read.js";
import { SealIndex } from "../../src/evidence/store/seal-index.js";
import { documentIdOf, pdfId } from "../../src/crypto/sign/pdf-id.js";
import { PromotionRecord } from "../../src/record/schema.js";
import { FsObjectStore } from "../../src/evidence/store/fs-store.js";
import { exportOf, sealedStore, type SealedStore } from "./fixture.js";

/*
 * Export takes the review PDF the index records for a package: the file the approvers read,
 * even when rendering it today gives other bytes (a renderer or pdf-lib change). Stores
 * reviewed before the index recorded it get the stored PDF whose document ID is the package's.
 */

let s: SealedStore;
let store: FsObjectStore;
beforeAll(async () => {
  // Approvals that sign no review PDF, as before they did: the file may then change unnoticed
  // by them, and export must still find the one the approvers read.
  s = await sealedStore("ec-p256", { signedReviewPdf: "none" });
  store = await new FsObjectStore(s.root).init();
});
afterAll(async () => {
  await s?.ledger.close();
});

const reviewPdfOf = async (zip: Buffer) => {
  const files = await readZip(zip);
  const index = JSON.parse(files.get("bundle.json")!.toString()) as { cycles: { reviewPdf?: string }[] };
  return { files, digests: index.cycles.map((c) => c.reviewPdf) };
};
const packageOf = async (record: string) =>
  PromotionRecord.parse(JSON.parse(Buffer.from(await store.get(record as never)).toString())).package;

describe("the review PDF in an export", () => {
  it("is the recorded file, also when rendering it again gives other bytes", async () => {
    const before = await reviewPdfOf(await exportOf(s, s.events.other));
    const rendered = before.digests[0]!;
    expect(rendered).toBeDefined();
    // What an older renderer stored: the same document ID, other bytes.
    const older = Buffer.concat([
      Buffer.from(await store.get(rendered as never)),
      Buffer.from("% rendered by an older sealgate\n"),
    ]);
    const olderDigest = await store.put(older);
    const pkg = await packageOf(s.events.other);
    await (await SealIndex.open(s.root)).addReviewPdf({ package: pkg, pdf: olderDigest });

    const zip = await exportOf(s, s.events.other);
    const after = await reviewPdfOf(zip);
    expect(after.digests).toEqual([olderDigest]);
    expect(after.files.get(`objects/${olderDigest.slice(7)}`)?.equals(older)).toBe(true);
    expect((await verifyBundle(zip, s.trust)).ok).toBe(true);
  });

  it("is not a recorded file whose document ID is another package's: the stored one whose ID is", async () => {
    const before = await reviewPdfOf(await exportOf(s, s.events.rejected));
    const pkg = await packageOf(s.events.rejected);
    // The approved cycle's sealed record PDF: a real PDF, but not this package's.
    const index = await SealIndex.open(s.root);
    const wrong = index.byRecord(s.events.approved)!.pdf;
    expect(pdfId(await store.get(wrong as never))).not.toBe(documentIdOf(pkg));
    await index.addReviewPdf({ package: pkg, pdf: wrong });

    const after = await reviewPdfOf(await exportOf(s, s.events.rejected));
    expect(after.digests).toEqual(before.digests);
    expect(pdfId(await store.get(after.digests[0] as never))).toBe(documentIdOf(pkg));
  });

  it("is found by its document ID in a store with no index line, whatever today's renderer writes", async () => {
    // The fixture stores review PDFs without index lines. Replace this one by other bytes
    // with the same document ID, as an older renderer would have written them.
    const pkg = await packageOf(s.events.approved);
    const zip = await exportOf(s, s.events.approved);
    const [current] = (await reviewPdfOf(zip)).digests;
    const older = Buffer.concat([
      Buffer.from(await store.get(current as never)),
      Buffer.from("% rendered by an older sealgate\n"),
    ]);
    const olderDigest = await store.put(older);
    await rm(store.pathOf(current as never));
    // Text that merely names the package's ID is not a PDF, even when its digest sorts first.
    let decoy = "";
    for (let i = 0; !decoy || decoy > olderDigest; i++)
      decoy = await store.put(Buffer.from(`note ${i}: /ID [<${documentIdOf(pkg)}>]`));
    expect((await SealIndex.open(s.root)).reviewPdf(pkg)).toBeUndefined();

    const after = await exportOf(s, s.events.approved);
    expect((await reviewPdfOf(after)).digests[0]).toBe(olderDigest);
    expect((await verifyBundle(after, s.trust)).ok).toBe(true);
  });

  it("survives reopening: the index keeps the last PDF recorded per package", async () => {
    const index = await SealIndex.open(s.root);
    const pkg = `sha256:${"c".repeat(64)}`;
    const a = `sha256:${"a".repeat(64)}`;
    const b = `sha256:${"b".repeat(64)}`;
    await index.addReviewPdf({ package: pkg, pdf: a });
    await index.addReviewPdf({ package: pkg, pdf: b });
    expect((await SealIndex.open(s.root)).reviewPdf(pkg)).toBe(b);
  });
});
