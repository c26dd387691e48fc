import { mkdtemp, writeFile, readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { sealSampleRecord } from "../../src/dev/sample-record.js";
import { ENTRIES } from "../../src/evidence/ledger/ledger.js";
import { FileLedger } from "../../src/evidence/ledger/file-ledger.js";
import { loadSigner } from "../../src/crypto/sign/load.js";
import { FsObjectStore } from "../../src/evidence/store/fs-store.js";
import { devPki } from "../support/pki.js";
import { cli } from "../support/cli.js";

describe("sealgate verify --store", () => {
  it("exits 0 on a good store and 1 with each failure listed, in text and JSON", async () => {
    const { pki } = await devPki();
    const signer = await loadSigner({ type: "pem", key: pki.sealing.key, cert: pki.sealing.cert }, "k", {});
    const root = await mkdtemp(join(tmpdir(), "sealgate-cli-verify-"));
    const store = await new FsObjectStore(root).init();
    const ledger = await FileLedger.open(join(root, "ledger"));
    for (let i = 0; i < 5; i++) await sealSampleRecord(store, ledger, `r${i}`);
    await ledger.checkpoint(signer);
    await sealSampleRecord(store, ledger, "r5");
    await ledger.close();

    const good = await cli(["verify", "--store", root, "--ca", pki.trust.anchors]);
    expect(good.code).toBe(0);
    expect(good.out).toContain(
      "6 ledger entries, 1 signed checkpoints, 1 entries not yet covered by a checkpoint",
    );
    expect(good.out.trim().endsWith("OK")).toBe(true);

    const text = await readFile(join(root, "ledger", ENTRIES), "utf8");
    await writeFile(join(root, "ledger", ENTRIES), text.replace('"seq":3', '"seq":7'));
    const bad = await cli(["verify", "--store", root, "--ca", pki.trust.anchors, "--json"]);
    expect(bad.code).toBe(1);
    const report = JSON.parse(bad.out);
    expect(report.ok).toBe(false);
    expect(
      report.findings.map((f: { code: string; where: { entry?: number } }) => [
        f.code,
        f.where.entry ?? null,
      ]),
    ).toEqual([
      ["ENTRY_SEQUENCE", 3],
      ["ENTRY_SEQUENCE", 4],
      ["ENTRY_CHAIN_BROKEN", 4],
      ["CHECKPOINT_ROOT_MISMATCH", null],
    ]);
  });

  it("exits 2 when the store or the CA is missing", async () => {
    expect((await cli(["verify", "--store", "/nonexistent"])).code).toBe(2);
    const { pki } = await devPki();
    const signer = await loadSigner({ type: "pem", key: pki.sealing.key, cert: pki.sealing.cert }, "k", {});
    const root = await mkdtemp(join(tmpdir(), "sealgate-cli-verify-"));
    const ledger = await FileLedger.open(join(root, "ledger"));
    await ledger.checkpoint(signer);
    await ledger.close();
    const r = await cli(["verify", "--store", root]);
    expect(r.code).toBe(2);
    expect(r.err).toContain("--ca");
  });
});
