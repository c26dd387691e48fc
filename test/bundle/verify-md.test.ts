import { randomBytes } from "node:crypto";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MANIFEST, manifestText } from "../../src/bundle/layout.js";
import { verifyBundle } from "../../src/bundle/verify.js";
import { inclusionSteps } from "../../src/bundle/verify-md.js";
import { cmsTokenFacts } from "../../src/bundle/verify-md-facts.js";
import { readZip } from "../../src/bundle/zip-read.js";
import { writeZip } from "../../src/bundle/zip-write.js";
import { p1363ToDer } from "../../src/crypto/sign/ecdsa.js";
import type { KeySpec } from "../../src/crypto/pki/keys.js";
import { inclusionProof, leafHash, rootOf } from "../../src/evidence/ledger/merkle.js";
import { PromotionRecord } from "../../src/record/schema.js";
import { exportOf, sealedStore, type SealedStore } from "./fixture.js";
import { runVerifyMd, shell, shellBlocks, unzipped } from "./run-verify-md.js";

/*
 * Issue 21 items 10, 3 and 11: VERIFY.md walks an auditor through every approval, every
 * time-stamp token and the inclusion proof with openssl, sha256sum and coreutils alone. These
 * tests run its blocks as generated (never re-typed) with nothing else on the PATH, on good
 * bundles and on bundles with one thing tampered, and check the step that concerns it fails.
 */

type Files = Map<string, Buffer>;
const text = (files: Files) => files.get("VERIFY.md")!.toString("utf8");
const approvalObjects = (files: Files, cycle: number) =>
  PromotionRecord.parse(JSON.parse(files.get(`records/${cycle}/record.json`)!.toString())).approvals.map(
    (a) => `objects/${a.assertion.slice("sha256:".length)}`,
  );
/** The bundle as an attacker who knows the format leaves it: the manifest recomputed. */
const withManifest = (files: Files): Files => new Map(files).set(MANIFEST, Buffer.from(manifestText(files)));

// Each key type turns the approval signature into something else for OpenSSL (ES256 r||s to DER,
// ES384 the same with 48-byte halves, PS256 as is with PSS options): run all three.
describe.each([
  ["ec-p256", true],
  ["rsa-2048", true],
  ["ec-p384", false],
] as [KeySpec, boolean][])("a bundle sealed with %s keys (time-stamped: %s)", (spec, tsa) => {
  let s: SealedStore;
  let files: Files;
  beforeAll(async () => {
    s = await sealedStore(spec, { tsa });
    files = await readZip(await exportOf(s, s.events.approved));
  });
  afterAll(async () => {
    await s?.ledger.close();
  });

  it("passes every VERIFY.md step, and sealgate verify agrees", async () => {
    const report = await verifyBundle(await writeZip(files), s.trust);
    expect(report.claims.filter((c) => !c.ok)).toEqual([]);
    const r = await runVerifyMd(files, s.pki.trust.anchors);
    for (const run of r.runs) expect(run.code, `${run.block}\n${run.out}`).toBe(0);
    expect(r.out).not.toContain("FAILED");
    // Every approval of both cycles: signature and certificate chain.
    const approvals = [...approvalObjects(files, 1), ...approvalObjects(files, 2)];
    expect(approvals.length).toBe(6);
    for (const a of approvals) {
      const run = r.runs.find((x) => x.block.includes(`jws ${a} `))!;
      expect(run.out).toContain("Verified OK");
      expect(run.out).toMatch(/-signer\.pem: OK/);
    }
    // The checkpoint's token and both records' CMS tokens, each by openssl ts -verify.
    expect(r.out.match(/^Verification: OK$/gm)?.length ?? 0).toBe(tsa ? 3 : 0);
    expect(files.has("ledger/checkpoint.tst")).toBe(tsa);
    expect(files.has("certs/tsa-chain.pem")).toBe(tsa);
  });

  it("fails the approval step when an approver's signature is changed", async () => {
    const [target, other] = approvalObjects(files, 2);
    const [h, p, sig] = files.get(target!)!.toString().split(".");
    const raw = Buffer.from(sig!, "base64url");
    raw[3]! ^= 0x40;
    const bad = withManifest(
      new Map(files).set(target!, Buffer.from(`${h}.${p}.${raw.toString("base64url")}`)),
    );
    const r = await runVerifyMd(
      bad,
      s.pki.trust.anchors,
      (b) => b.includes(`jws ${target} `) || b.includes(`jws ${other} `),
    );
    const [, tampered, untouched] = r.runs;
    expect(tampered!.code).not.toBe(0);
    expect(tampered!.out).toContain("OK: approval 1 signs exactly");
    expect(tampered!.out).toMatch(/Verification failure/);
    expect(untouched!.code).toBe(0);
  });

  it("fails the approval step when a base64url part decodes but is spelled differently", async () => {
    const [target] = approvalObjects(files, 2);
    const parts = files.get(target!)!.toString().split(".");
    // A part whose length leaves a remainder ends in a character with unused low bits: setting
    // one keeps the decoded bytes and changes the text.
    const k = parts.findIndex((x) => x.length % 4 >= 2);
    expect(k).toBeGreaterThanOrEqual(0);
    const part = parts[k]!;
    const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    const respelled = `${part.slice(0, -1)}${alphabet[alphabet.indexOf(part.at(-1)!) ^ 1]}`;
    expect(Buffer.from(respelled, "base64url").equals(Buffer.from(part, "base64url"))).toBe(true);
    parts[k] = respelled;
    const bad = withManifest(new Map(files).set(target!, Buffer.from(parts.join("."))));
    const r = await runVerifyMd(bad, s.pki.trust.anchors, (b) => b.includes(`jws ${target} `));
    expect(r.runs[1]!.code).not.toBe(0);
    expect(r.runs[1]!.out).toContain("FAILED: base64url");
    expect(r.runs[1]!.out).not.toContain("Verified OK");
  });

  it.runIf(tsa)(
    "fails the time-stamp steps when a token is changed, and sealgate verify agrees",
    async () => {
      // The checkpoint's token: a byte of the TSA's signature, its last bytes.
      const tst = Buffer.from(files.get("ledger/checkpoint.tst")!);
      tst[tst.length - 2]! ^= 0x01;
      const badCheckpoint = withManifest(new Map(files).set("ledger/checkpoint.tst", tst));
      const r1 = await runVerifyMd(badCheckpoint, s.pki.trust.anchors, (b) =>
        b.includes("-in ledger/checkpoint.tst"),
      );
      expect(r1.runs[1]!.code).not.toBe(0);
      expect(r1.runs[1]!.out).toContain("Verification: FAILED");
      const v1 = await verifyBundle(await writeZip(badCheckpoint), s.trust);
      expect(v1.claims.filter((c) => !c.ok).map((c) => c.id)).toContain("checkpoint");

      // The record's CMS token (CAdES-T): an unsigned attribute, so the CMS signature itself
      // still verifies; only the time-stamp step (and sealgate) catch it.
      const p7s = Buffer.from(files.get("records/2/record.p7s")!);
      const t = cmsTokenFacts(p7s)!;
      p7s[t.token.offset + t.token.length - 2]! ^= 0x01;
      const badCms = withManifest(new Map(files).set("records/2/record.p7s", p7s));
      const r2 = await runVerifyMd(
        badCms,
        s.pki.trust.anchors,
        (b) => b.includes("work/c2-cms.tst") || b.includes("-in records/2/record.p7s"),
      );
      const [, cms, token] = r2.runs;
      expect(cms!.out).toContain("Verification successful");
      expect(cms!.code).toBe(0);
      expect(token!.code).not.toBe(0);
      expect(token!.out).toContain("Verification: FAILED");
      const v2 = await verifyBundle(await writeZip(badCms), s.trust);
      expect(v2.claims.filter((c) => !c.ok).map((c) => c.id)).toContain("cycle-2.cms");
    },
  );
});

describe("VERIFY.md's rs2der helper", () => {
  // Real signatures cover the common cases by chance only; these cover each edge on purpose:
  // a top bit set (DER adds 0x00), leading zero bytes (DER drops them), both halves small.
  it("turns r || s into the DER OpenSSL wants, for every edge of the integer encoding", async () => {
    const s = await sealedStore("ec-p256");
    try {
      const files = await readZip(await exportOf(s, s.events.other));
      const helpers = shellBlocks(text(files))[0]!;
      const { bin, bundle } = await unzipped(files, s.pki.trust.anchors);
      const half = (n: number, lead: number[]) =>
        Buffer.concat([Buffer.from(lead), randomBytes(n - lead.length)]);
      const cases = [32, 48].flatMap((n) => [
        Buffer.concat([half(n, [0x80]), half(n, [0xff])]),
        Buffer.concat([half(n, [0x00, 0x00, 0x7f]), half(n, [0x00, 0x81])]),
        Buffer.concat([Buffer.alloc(n - 1), Buffer.from([1]), half(n, [0x7f])]),
        Buffer.concat([half(n, [0x01]), Buffer.alloc(n, 0xff)]),
      ]);
      await mkdir(join(bundle, "work"), { recursive: true });
      for (const [i, raw] of cases.entries()) {
        await writeFile(join(bundle, `work/rs${i}.bin`), raw);
        const r = shell(bundle, bin, `${helpers}\nrs2der work/rs${i}.bin work/rs${i}.der`);
        expect(r.status, r.stdout + r.stderr).toBe(0);
        expect((await readFile(join(bundle, `work/rs${i}.der`))).equals(p1363ToDer(raw))).toBe(true);
      }
    } finally {
      await s.ledger.close();
    }
  });
});

describe("VERIFY.md's inclusion steps", () => {
  // The sides of the proof hashes are worked out in shell arithmetic from the index and size:
  // run the generated steps on trees of every shape, and on a proof for a different index.
  it("lead from the leaf to the root for entries of trees of any size, and only from its index", async () => {
    const s = await sealedStore("ec-p256");
    let files: Files;
    try {
      files = await readZip(await exportOf(s, s.events.other));
    } finally {
      await s.ledger.close();
    }
    const helpers = shellBlocks(text(files))[0]!;
    const { bin, bundle } = await unzipped(
      new Map([["VERIFY.md", files.get("VERIFY.md")!]]),
      s.pki.trust.anchors,
    );
    await mkdir(join(bundle, "records/1"), { recursive: true });
    await mkdir(join(bundle, "ledger"), { recursive: true });
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 70 }),
        fc.nat(),
        fc.boolean(),
        async (size, i, wrongIndex) => {
          const index = i % size;
          const lines = Array.from({ length: size }, () => randomBytes(12));
          const leaves = lines.map(leafHash);
          const hashes = inclusionProof(leaves, index).map((h) => h.toString("hex"));
          // A proof is valid for one position only: claiming it for another must fail.
          const claimed = wrongIndex && size > 1 ? (index + 1) % size : index;
          const proof = { hashes, index: claimed, size };
          await writeFile(join(bundle, "records/1/entry.json"), lines[index]!);
          await writeFile(join(bundle, "records/1/inclusion.json"), JSON.stringify(proof));
          await writeFile(
            join(bundle, "ledger/checkpoint.note"),
            `test\n${size}\n${rootOf(leaves).toString("base64")}\ntime 2026-01-01T00:00:00.000Z\n`,
          );
          const r = shell(bundle, bin, `${helpers}\n${inclusionSteps({ number: 1, proof }, "work/t")}`);
          if (claimed === index) expect(r.status, r.stdout + r.stderr).toBe(0);
          else expect(r.stdout).toContain("FAILED");
        },
      ),
      { numRuns: 60 },
    );
  });
});

describe("an approval that signed a review PDF other than the one the bundle carries", () => {
  let s: SealedStore;
  let files: Files;
  beforeAll(async () => {
    s = await sealedStore("ec-p256", { signedReviewPdf: "another" });
    files = await readZip(await exportOf(s, s.events.approved));
  });
  afterAll(async () => {
    await s?.ledger.close();
  });

  it("fails VERIFY.md's approval step and sealgate verify's approvals claim", async () => {
    const report = await verifyBundle(await writeZip(files), s.trust);
    const approvals = report.claims.find((c) => c.id === "cycle-2.approvals")!;
    expect(approvals.ok).toBe(false);
    expect(JSON.stringify(approvals)).toContain("signed review PDF");
    // The first cycle's approvals signed no review PDF: they still pass.
    expect(report.claims.find((c) => c.id === "cycle-1.approvals")!.ok).toBe(true);
    const [target] = approvalObjects(files, 2);
    const r = await runVerifyMd(files, s.pki.trust.anchors, (b) => b.includes(`jws ${target} `));
    expect(r.runs[1]!.code).not.toBe(0);
    expect(r.runs[1]!.out).toContain("FAILED: approval 1 signs exactly");
  });
});
