import { createHash } from "node:crypto";
import { expect } from "vitest";
import { SealIndex } from "../../../src/evidence/store/seal-index.js";
import { FsObjectStore } from "../../../src/evidence/store/fs-store.js";
import type { FileDestination } from "../../support/file-destination.mjs";
import type { SealedStore } from "../../support/sealed-records.js";

/** Each sealed record once remotely, with each mapped file once, byte-equal to the local object. */
export async function expectExactlyOnce(s: SealedStore, dest: FileDestination) {
  const remote = await dest.records();
  const store = new FsObjectStore(s.root);
  const index = await SealIndex.open(s.root);
  expect(remote.map((r) => r.correlation).sort()).toEqual([...s.records].sort());
  for (const r of remote) {
    expect(r.finished).toBe(true);
    expect(r.files.map((f) => f.name).sort()).toEqual(["evidence.json", "record.p7s", "record.pdf"]);
    const seal = index.byRecord(r.correlation)!;
    for (const [name, object] of [
      ["record.pdf", seal.pdf],
      ["record.p7s", seal.p7s],
    ] as const) {
      const local = createHash("sha256")
        .update(await store.get(object as never))
        .digest("hex");
      expect(r.files.find((f) => f.name === name)!.sha256).toBe(local);
    }
  }
}
