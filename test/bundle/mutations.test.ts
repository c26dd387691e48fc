import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MANIFEST, manifestText } from "../../src/bundle/layout.js";
import { verifyBundle } from "../../src/bundle/verify.js";
import { readZip } from "../../src/bundle/zip-read.js";
import { writeZip } from "../../src/bundle/zip-write.js";
import { RECORD_JWS_TYP } from "../../src/record/schema.js";
import { canonicalBytes } from "../../src/record/canonical.js";
import { signCmsDetached } from "../../src/crypto/sign/cms.js";
import { signJws } from "../../src/crypto/sign/jws.js";
import { loadSigner } from "../../src/crypto/sign/load.js";
import { toPem } from "../../src/crypto/pki/x509.js";
import { exportOf, sealedStore, type SealedStore } from "./fixture.js";

/*
 * Every mutation of a bundle must be caught, and by the claim that concerns the changed file.
 * Each mutation runs twice: as is (the manifest no longer matches) and with the manifest
 * recomputed, as an attacker who knows the format would do; the specific claim must fail then too.
 */

type Files = Map<string, Buffer>;
let s: SealedStore;
let a: Files;
let b: Files;

beforeAll(async () => {
  s = await sealedStore();
  a = await readZip(await exportOf(s, s.events.approved));
  b = await readZip(await exportOf(s, s.events.other));
});
afterAll(async () => {
  await s?.ledger.close();
});

/** The claim that must fail when `path` is changed or lost. */
function claimFor(path: string): RegExp {
  if (path === MANIFEST) return /^manifest$/;
  // VERIFY.md is guidance (FORMAT.md 17.4): a change that leaves it text is the manifest's to catch.
  if (path === "VERIFY.md") return /^(instructions|manifest)$/;
  if (path === "bundle.json") return /^(index|contents|history|instructions|cycle-\d+\.\w+)$/;
  if (path === "certs/sealing-chain.pem") return /^certificates$/;
  if (path === "certs/tsa-chain.pem") return /^checkpoint$/;
  if (path.startsWith("ledger/")) return /^checkpoint$/;
  if (path.startsWith("objects/")) return /^cycle-\d+\.objects$/;
  const m =
    /^records\/(\d+)\/(record\.json|record\.jws|record\.p7s|record\.pdf|entry\.json|inclusion\.json)$/.exec(
      path,
    );
  if (!m) throw new Error(`no claim known for ${path}`);
  const kind = { "record.json": "record", "record.jws": "jws", "record.p7s": "cms", "record.pdf": "pdf" }[
    m[2]!
  ];
  return new RegExp(`^cycle-${m[1]}\\.${kind ?? "inclusion"}$`);
}

async function failedClaims(files: Files, fixManifest: boolean): Promise<string[]> {
  const out = new Map(files);
  if (fixManifest) out.set(MANIFEST, Buffer.from(manifestText(out)));
  const report = await verifyBundle(await writeZip(out), s.trust);
  expect(report.ok).toBe(false);
  return report.claims.filter((c) => !c.ok).map((c) => c.id);
}

async function expectCaught(files: Files, path: string, fixManifest: boolean) {
  const failed = await failedClaims(files, fixManifest);
  expect(
    failed.some((id) => claimFor(path).test(id)),
    `${path}: ${failed.join(", ")}`,
  ).toBe(true);
  if (!fixManifest && path !== MANIFEST) expect(failed).toContain("manifest");
}

const paths = () => fc.constantFrom(...[...a.keys()].sort());
const fix = fc.boolean();
const runs = { numRuns: 25 };

describe("mutated bundles are caught by the right claim", () => {
  it("the unmutated bundle verifies", async () => {
    const report = await verifyBundle(await writeZip(a), s.trust);
    expect(report.claims.filter((c) => !c.ok)).toEqual([]);
  });

  it("a flipped byte in any file", async () => {
    await fc.assert(
      fc.asyncProperty(
        paths(),
        fc.nat(),
        fc.integer({ min: 1, max: 255 }),
        fix,
        async (path, pos, xor, fixed) => {
          if (path === MANIFEST && fixed) return;
          // VERIFY.md is guidance, not evidence (FORMAT.md 17.4): with the manifest recomputed
          // it may change freely while it stays text; "VERIFY.md is guidance" below pins that.
          if (path === "VERIFY.md" && fixed) return;
          const bytes = Buffer.from(a.get(path)!);
          bytes[pos % bytes.length]! ^= xor;
          await expectCaught(new Map(a).set(path, bytes), path, fixed);
        },
      ),
      runs,
    );
  });

  // Bytes that no digest covers, pinned because random flips reach them rarely (fast-check found
  // the first): the issuer name in the bundle's copy of the issuing CA, which path validation
  // passes over for your own copy, and the hex of the PDF's seal, which Node decodes ignoring case.
  it("a changed byte in a chain's copy of the issuing CA, in the CMS's unsigned fields, or in the PDF seal's hex", async () => {
    for (const path of ["ledger/checkpoint-chain.pem", "certs/sealing-chain.pem"]) {
      const changed = Buffer.from(a.get(path)!);
      const ca = changed.lastIndexOf("-----BEGIN CERTIFICATE-----");
      // "Root" in the issuer name, base64: the CA's certificate now names another issuer.
      const at = changed.indexOf("Um9vdCBDQT", ca) + 1;
      expect(at).toBeGreaterThan(ca + 2);
      changed[at]! ^= 1;
      for (const fixed of [false, true]) await expectCaught(new Map(a).set(path, changed), path, fixed);
    }
    // The CMS fields no signature covers: digest algorithm parameters and the signer info version.
    const p7sPath = "records/2/record.p7s";
    const p7s = a.get(p7sPath)!;
    const sha256Null = Buffer.from("0609608648016503040201" + "0500", "hex");
    const signerInfoVersion = Buffer.from("02010130", "hex");
    for (const at of [p7s.indexOf(sha256Null) + 11, p7s.lastIndexOf(signerInfoVersion) + 2]) {
      expect(at).toBeGreaterThan(11);
      const changed = Buffer.from(p7s);
      changed[at]! ^= 1;
      for (const fixed of [false, true]) await expectCaught(new Map(a).set(p7sPath, changed), p7sPath, fixed);
    }
    const path = "records/2/record.pdf";
    const pdf = Buffer.from(a.get(path)!);
    const hex = pdf.indexOf("/Contents <") + "/Contents <".length;
    const letter = [...pdf.subarray(hex, hex + 200)].findIndex((c) => c >= 0x61 && c <= 0x66);
    pdf[hex + letter]! ^= 0x20; // the same hex digit, upper case
    for (const fixed of [false, true]) await expectCaught(new Map(a).set(path, pdf), path, fixed);
  });

  it("a removed or renamed file", async () => {
    await fc.assert(
      fc.asyncProperty(paths(), fc.constantFrom("remove", "rename"), fix, async (path, how, fixed) => {
        if (path === MANIFEST && fixed) return;
        const files = new Map(a);
        files.delete(path);
        if (how === "rename") files.set(path.replace(/(\.\w+)?$/, ".renamed$1"), a.get(path)!);
        await expectCaught(files, path, fixed);
      }),
      runs,
    );
  });

  it("an added file", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom("extra.txt", "objects/" + "0".repeat(64), "records/9/record.json", "certs/root.pem"),
        fc.uint8Array({ maxLength: 64 }),
        fix,
        async (path, bytes, fixed) => {
          const failed = await failedClaims(new Map(a).set(path, Buffer.from(bytes)), fixed);
          expect(failed).toContain(fixed ? "contents" : "manifest");
        },
      ),
      { numRuns: 8 },
    );
  });

  it("an object swapped in from another bundle", async () => {
    const ours = [...a.keys()].filter((p) => p.startsWith("objects/"));
    const theirs = [...b.keys()].filter((p) => p.startsWith("objects/") && !a.has(p));
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...ours),
        fc.constantFrom(...theirs),
        fix,
        async (path, from, fixed) => {
          await expectCaught(new Map(a).set(path, b.get(from)!), path, fixed);
        },
      ),
      { numRuns: 10 },
    );
  });

  it("a whole record with its seals swapped in from another bundle", async () => {
    const files = new Map(a);
    for (const f of ["record.json", "record.jws", "record.p7s", "record.pdf"])
      files.set(`records/2/${f}`, b.get(`records/1/${f}`)!);
    for (const fixed of [false, true]) {
      const failed = await failedClaims(files, fixed);
      expect(failed).toContain("cycle-2.record");
      expect(failed).toContain("history");
    }
  });

  it("a seal by an approver's certificate of the same CA (valid, but not for sealing)", async () => {
    const other = s.pki.approvers[0]!;
    const signer = await loadSigner({ type: "pem", key: other.key, cert: other.cert }, "other");
    const record = a.get("records/2/record.json")!;
    const jws = Buffer.from(canonicalBytes(await signJws(record, signer, RECORD_JWS_TYP)));
    const p7s = Buffer.from(await signCmsDetached(record, signer, new Date()));
    for (const fixed of [false, true]) {
      expect(await failedClaims(new Map(a).set("records/2/record.jws", jws), fixed)).toContain("cycle-2.jws");
      expect(await failedClaims(new Map(a).set("records/2/record.p7s", p7s), fixed)).toContain("cycle-2.cms");
      const chain = new Map(a)
        .set("records/2/record.jws", jws)
        .set("records/2/record.p7s", p7s)
        .set(
          "certs/sealing-chain.pem",
          Buffer.from(signer.chain.map((c) => toPem(c.rawData, "CERTIFICATE")).join("")),
        );
      const out = new Map(chain);
      if (fixed) out.set(MANIFEST, Buffer.from(manifestText(out)));
      const report = await verifyBundle(await writeZip(out), s.trust);
      const failed = report.claims.filter((c) => !c.ok).map((c) => c.id);
      expect(report.claims.find((c) => c.id === "certificates")!.findings).toEqual([
        expect.objectContaining({
          code: "SIGNER_MISMATCH",
          where: { member: "certs/sealing-chain.pem" },
          message: expect.stringContaining("is not the ledger's signer"),
        }),
        // An approver's EKUs (emailProtection, clientAuth) do not qualify it to seal.
        expect.objectContaining({
          code: "CERT_BAD_EXTENDED_KEY_USAGE",
          where: { member: "certs/sealing-chain.pem" },
        }),
      ]);
      // The JWS verifies as a signature but its signer may not seal.
      expect(failed).toContain("cycle-2.jws");
      expect(failed).toContain("cycle-2.pdf");
    }
  });
});

describe("VERIFY.md is guidance, not evidence", () => {
  it("changed text passes with the manifest recomputed; bytes that are not UTF-8 fail instructions", async () => {
    const md = a.get("VERIFY.md")!.toString("utf8").replace("sha256sum -c MANIFEST.sha256", "true");
    expect(await failedClaims(new Map(a).set("VERIFY.md", Buffer.from(md)), false)).toEqual(["manifest"]);
    const out = new Map(a).set("VERIFY.md", Buffer.from(md));
    out.set(MANIFEST, Buffer.from(manifestText(out)));
    expect((await verifyBundle(await writeZip(out), s.trust)).ok).toBe(true);
    const binary = Buffer.concat([a.get("VERIFY.md")!, Buffer.from([0xc3, 0x28])]);
    expect(await failedClaims(new Map(a).set("VERIFY.md", binary), true)).toEqual(["instructions"]);
  });
});

describe("a time-stamped checkpoint's token and TSA certificates", () => {
  let t: SealedStore;
  let files: Files;
  beforeAll(async () => {
    t = await sealedStore("ec-p256", { tsa: true });
    files = await readZip(await exportOf(t, t.events.approved));
  });
  afterAll(async () => {
    await t?.ledger.close();
  });
  const failedOf = async (f: Files, fixed: boolean) => {
    const out = new Map(f);
    if (fixed) out.set(MANIFEST, Buffer.from(manifestText(out)));
    const report = await verifyBundle(await writeZip(out), t.trust);
    return report.claims.filter((c) => !c.ok).map((c) => c.id);
  };

  it("a changed byte of either fails the checkpoint claim; one without the other fails contents", async () => {
    expect(await failedOf(files, false)).toEqual([]);
    const tst = Buffer.from(files.get("ledger/checkpoint.tst")!);
    tst[tst.length - 3]! ^= 0x10; // in the TSA's signature
    const chain = Buffer.from(files.get("certs/tsa-chain.pem")!);
    chain[100]! ^= 0x01; // in the base64 of the CA certificate
    for (const fixed of [false, true]) {
      expect(await failedOf(new Map(files).set("ledger/checkpoint.tst", tst), fixed)).toContain("checkpoint");
      expect(await failedOf(new Map(files).set("certs/tsa-chain.pem", chain), fixed)).toContain("checkpoint");
      for (const gone of ["ledger/checkpoint.tst", "certs/tsa-chain.pem"]) {
        const out = new Map(files);
        out.delete(gone);
        expect(await failedOf(out, fixed)).toContain("contents");
      }
    }
  });
});

describe("findings carry where they apply", () => {
  const claimsOf = async (files: Files) => {
    const report = await verifyBundle(await writeZip(files), s.trust);
    return Object.fromEntries(report.claims.map((c) => [c.id, c.findings]));
  };
  const flippedSeal = () => {
    const p7s = Buffer.from(a.get("records/2/record.p7s")!);
    p7s[p7s.length - 1]! ^= 1; // the last byte of the signature value
    return p7s;
  };

  it("a fault the Verifier reports names the bundle member and the cycle", async () => {
    const found = await claimsOf(new Map(a).set("records/2/record.p7s", flippedSeal()));
    expect(found["cycle-2.cms"]).toEqual([
      expect.objectContaining({
        code: expect.stringMatching(/^SIGNATURE_/),
        where: { member: "records/2/record.p7s", cycle: 2 },
      }),
    ]);
    expect(found["cycle-1.cms"]).toEqual([]);
  });

  it("two independent faults in one cycle give two findings, each in its own claim", async () => {
    const record = JSON.parse(a.get("records/2/record.json")!.toString()) as {
      approvals: { assertion: string }[];
    };
    const member = `objects/${record.approvals[0]!.assertion.slice(7)}`;
    const [header, payload, sig] = a.get(member)!.toString().split(".");
    const forged = Buffer.from(`${header}.${payload}.${sig!.slice(0, -2)}AA`);
    const found = await claimsOf(new Map(a).set("records/2/record.p7s", flippedSeal()).set(member, forged));
    expect(found["cycle-2.cms"]).toEqual([
      expect.objectContaining({ where: { member: "records/2/record.p7s", cycle: 2 } }),
    ]);
    expect(found["cycle-2.approvals"]).toEqual([
      expect.objectContaining({ code: "APPROVAL_MISMATCH", where: { member, cycle: 2 } }),
    ]);
  });
});
