import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { SealgateError } from "../../../src/core/errors.js";
import { decodeCmsDetached } from "../../../src/crypto/sign/cms.js";
import { withTimestamper } from "../../../src/crypto/sign/signer.js";
import { httpTimestamper } from "../../../src/crypto/sign/timestamp.js";
import { FileLedger } from "../../../src/evidence/ledger/file-ledger.js";
import { FsObjectStore } from "../../../src/evidence/store/fs-store.js";
import { verifyStore } from "../../../src/evidence/verify/store.js";
import { verifyParts } from "../../../src/app/store.js";
import { SealIndex } from "../../../src/evidence/store/seal-index.js";
import { sealedRecords, sealMore, type SealedStore } from "../../support/sealed-records.js";
import { startTsa } from "../../support/tsa.js";

/*
 * Sealing through a TSA end to end: records sealed by a time-stamping signer carry CAdES-T
 * tokens in their CMS and PDF seals, and `verify --store` accepts them; a required TSA that is
 * down leaves the ledger as it was.
 */

let s: SealedStore;
let tsa: Awaited<ReturnType<typeof startTsa>>;

beforeAll(async () => {
  s = await sealedRecords(1);
  tsa = await startTsa(s.pki);
});
afterAll(async () => {
  await tsa?.stop();
});

describe("a store sealed through a TSA", () => {
  it("holds time-stamped CMS seals that verify --store accepts", async () => {
    const stamper = httpTimestamper({ url: tsa.url, required: true }, { trust: s.trust });
    try {
      const before = tsa.requests;
      const signer = withTimestamper(s.signer, stamper);
      const [sealed] = await sealMore({ ...s, signer }, 1, 1);
      // One token for the CMS, one for the PDF's CMS.
      expect(tsa.requests - before).toBe(2);
      const ledger = await FileLedger.open(join(s.root, "ledger"));
      await ledger.checkpoint(signer);
      await ledger.close();
      const index = await SealIndex.open(s.root);
      const store = await new FsObjectStore(s.root).init();
      const entry = index.entries().find((e) => e.record === sealed);
      expect(entry).toBeDefined();
      const p7s = await store.get(entry!.p7s as never);
      expect(decodeCmsDetached(p7s).timestamp).toBeDefined();
      const report = await verifyStore(await verifyParts(s.root), { trust: s.trust });
      expect(report.findings).toEqual([]);
    } finally {
      await stamper.close();
    }
  });

  it("seals nothing when the required TSA is down: TSA_FAILED, and the ledger is unchanged", async () => {
    const down = httpTimestamper({ url: "http://127.0.0.1:9/tsa", required: true });
    try {
      const entries = await readFile(join(s.root, "ledger", "entries.log"));
      const err = (await sealMore({ ...s, signer: withTimestamper(s.signer, down) }, 5, 1).catch(
        (e: unknown) => e,
      )) as SealgateError;
      expect(err.code).toBe("TSA_FAILED");
      expect(err.exitCode).toBe(3);
      expect(err.message).toContain("http://127.0.0.1:9/tsa");
      expect((await readFile(join(s.root, "ledger", "entries.log"))).equals(entries)).toBe(true);
    } finally {
      await down.close();
    }
  });
});
