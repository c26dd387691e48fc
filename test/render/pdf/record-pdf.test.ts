import { execFile } from "node:child_process";
import { X509Certificate } from "node:crypto";
import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { PDFDict, PDFDocument, PDFName } from "pdf-lib";
import { describe, expect, it, vi } from "vitest";
import {
  grouped,
  type RecordPdfInput,
  renderRecordPdf,
  renderSignedRecordPdf,
} from "../../../src/render/pdf/record-pdf.js";
import { type PromotionRecord, packageDigest, type ReviewPackage } from "../../../src/record/schema.js";
import { loadSigner } from "../../../src/crypto/sign/load.js";
import { devPki } from "../../support/pki.js";
import { pdfInput } from "./fixture.js";

const run = promisify(execFile);

async function toFile(pdf: Uint8Array) {
  const path = join(await mkdtemp(join(tmpdir(), "sealgate-pdf-")), "record.pdf");
  await writeFile(path, pdf);
  return path;
}

/** The text pdftotext extracts, of pages `first` to `last` (all by default). */
async function textOf(pdf: Uint8Array, first?: number, last?: number) {
  const pages = [...(first ? ["-f", String(first)] : []), ...(last ? ["-l", String(last)] : [])];
  const { stdout } = await run("pdftotext", ["-enc", "UTF-8", ...pages, await toFile(pdf), "-"], {
    maxBuffer: 64 << 20,
  });
  return stdout;
}

/** The input as the review package the record was before its decision (the fields a seal adds removed). */
function asReviewPackage(
  base: RecordPdfInput,
  change: (pkg: ReviewPackage) => ReviewPackage = (pkg) => pkg,
): RecordPdfInput {
  const {
    approvals: _a,
    decision: _d,
    conditions: _c,
    sealedAt: _s,
    annotations: _n,
    package: _p,
    type: _t,
    ...fields
  } = base.record as PromotionRecord;
  const pkg = change({ ...fields, type: "sealgate.review-package/1" });
  return { ...base, kind: "review-package", record: pkg, digest: packageDigest(pkg) };
}

describe("the sealed record as PDF", () => {
  it("is byte-identical for the same record (no clock, fixed IDs, fixed font names)", async () => {
    const input = pdfInput();
    const [a, b] = [await renderRecordPdf(input), await renderRecordPdf(pdfInput())];
    expect(Buffer.from(a).equals(Buffer.from(b))).toBe(true);
  });

  it("is written in one go: no timer pauses while saving (pdf-lib's are a millisecond each)", async () => {
    await renderRecordPdf(pdfInput({ approvals: 4 })); // fonts subset with real timers
    vi.useFakeTimers({ toFake: ["setTimeout"] });
    try {
      let done = false;
      const rendering = renderRecordPdf(pdfInput({ approvals: 4 })).then(() => (done = true));
      // A pause would be a fake timer that never fires, and the render would never end.
      for (let i = 0; i < 1000 && !done; i++) await new Promise((r) => setImmediate(r));
      expect(vi.getTimerCount()).toBe(0);
      expect(done).toBe(true);
      await rendering;
    } finally {
      vi.useRealTimers();
    }
  });

  it("renders 30 approvals in any script and a 5 MB explanation image; pdftotext finds the digest and every fingerprint", async () => {
    const input = pdfInput({ approvals: 30, pngSide: 1300, noise: true });
    expect(input.explanation.bytes.length).toBeGreaterThan(5_000_000);
    const path = await toFile(await renderRecordPdf(input));
    const { stdout: text } = await run("pdftotext", ["-enc", "UTF-8", path, "-"], { maxBuffer: 64 << 20 });
    const oneLine = text.replace(/\s+/g, " ");
    expect(oneLine).toContain(`record ${input.digest}`);
    for (const a of input.approvals) expect(oneLine).toContain(a.fingerprint);
    for (const name of ["Zoë Ångström", "李雷", "Ægir Þórsson"]) expect(oneLine).toContain(name);
    const { stdout: info } = await run("pdfinfo", [path]);
    const pages = Number(/Pages:\s+(\d+)/.exec(info)?.[1]);
    expect(pages).toBeGreaterThan(5);
    expect(oneLine).toContain(`page ${pages} of ${pages}`);
    expect(info).toContain(`Title:           Sealed promotion record: credit-risk v3`);
  });

  it("carries the canonical record and the manifest as embedded files", async () => {
    const input = pdfInput();
    const path = await toFile(await renderRecordPdf(input));
    const { stdout } = await run("pdfdetach", ["-list", path]);
    expect(stdout).toContain("record.json");
    expect(stdout).toContain("model-manifest.json");
    const out = join(await mkdtemp(join(tmpdir(), "sealgate-detach-")), "record.json");
    const index = /(\d+): record\.json/.exec(stdout)?.[1] ?? "0";
    await run("pdfdetach", ["-save", index, "-o", out, path]);
    const { readFile } = await import("node:fs/promises");
    expect(Buffer.from(await readFile(out))).toEqual(Buffer.from(input.attachments[0]!.bytes));
  });

  it("renders the review package (pending decision) with a JPEG explanation, scaled to fit", async () => {
    const first = await toFile(await renderRecordPdf(pdfInput()));
    const dir = await mkdtemp(join(tmpdir(), "sealgate-jpeg-"));
    // A real JPEG, wider than the page: poppler renders page 1 of the first PDF as one.
    await run("pdftoppm", [
      "-jpeg",
      "-r",
      "150",
      "-f",
      "1",
      "-l",
      "1",
      "-singlefile",
      first,
      join(dir, "page"),
    ]);
    const { readFile } = await import("node:fs/promises");
    const jpeg = await readFile(join(dir, "page.jpg"));
    const input = {
      ...asReviewPackage(pdfInput(), (pkg) => ({
        ...pkg,
        materiality: { ...pkg.materiality, chain: ["data-governance", "model-risk"] },
        explanation: { ...pkg.explanation, mediaType: "image/jpeg" },
      })),
      approvals: [],
      explanation: { bytes: jpeg, mediaType: "image/jpeg" },
    };
    const path = await toFile(await renderRecordPdf(input));
    const { stdout } = await run("pdftotext", ["-enc", "UTF-8", path, "-"]);
    expect(stdout).toContain("Review package: credit-risk v3");
    expect(stdout).toContain("pending review");
    expect(stdout).toContain("Approval chain, in order: data-governance → model-risk.");
    expect(stdout.replace(/\s+/g, " ")).toContain(`package ${input.digest}`);
    const { stdout: images } = await run("pdfimages", ["-list", path]);
    expect(images).toMatch(/jpeg/);
  });

  it("names each font and image once in a page's resources, however many lines use it", async () => {
    const doc = await PDFDocument.load(await renderRecordPdf(pdfInput({ approvals: 30 })));
    for (const page of doc.getPages()) {
      const resources = page.node.Resources()!;
      for (const kind of ["Font", "XObject"]) {
        const dict = resources.lookupMaybe(PDFName.of(kind), PDFDict);
        const refs = dict ? dict.values().map(String) : [];
        // One key per object: pdf-lib's drawText added a font key for every line drawn.
        expect(new Set(refs).size).toBe(refs.length);
      }
    }
  });

  it("draws each document with its own font subsets when records alternate between character sets", async () => {
    // Text runs are kept across documents per set of subsets: glyph ids from another
    // document's subset would draw (and extract as) the wrong characters.
    const text = async (input: RecordPdfInput) =>
      (await run("pdftotext", ["-enc", "UTF-8", await toFile(await renderRecordPdf(input)), "-"])).stdout;
    const few = pdfInput({ approvals: 1 });
    const many = pdfInput({ approvals: 5 });
    for (const input of [few, many, few, many]) {
      const out = (await text(input)).replace(/\s+/g, " ");
      // pdftotext gives right-to-left names back in visual order; the others are compared whole.
      const names = input.approvals.map((a) => a.subject).filter((n) => !/\p{Script=Arabic}/u.test(n));
      expect(names.length).toBeGreaterThan(0);
      for (const name of names) expect(out).toContain(name);
      expect(out).toContain("Model content digest");
    }
  });

  it("embeds the Arabic, math and CJK fonts only when the record writes what needs them", async () => {
    const fonts = async (input: RecordPdfInput) => {
      const { stdout } = await run("pdffonts", [await toFile(await renderRecordPdf(input))]);
      return [
        ...new Set(
          stdout
            .split("\n")
            .slice(2)
            .map((l) => l.split(/\s+/)[0])
            .filter(Boolean),
        ),
      ].sort();
    };
    // pdffonts lists the fonts the pages draw with (no Arabic name is set in bold).
    expect(await fonts(pdfInput({ approvals: 5 }))).toEqual([
      "NotoSans",
      "NotoSans-Bold",
      "NotoSansArabic",
      "NotoSansMath",
      "NotoSansSC",
    ]);
    // Ada alone, Latin metric names, one approver in the chain (no arrow) and no thresholds
    // (no ≥ or ≤).
    const latin = pdfInput({ approvals: 1 });
    const r = latin.record as PromotionRecord;
    for (const m of [r.challenger.candidate, r.challenger.challenger]) delete m["指标"];
    r.approvals = r.approvals.map((a) => ({ ...a, identity: { ...a.identity, subject: "CN=Ada Lovelace" } }));
    r.materiality.chain = ["data-governance"];
    const chain = latin.record.materiality.chain;
    const thresholds = latin.thresholds;
    latin.thresholds = undefined;
    expect(await fonts(latin)).toEqual(["NotoSans", "NotoSans-Bold"]);
    // The template's arrow and ≥ ≤ come from the 1 MB math font, not the 10 MB CJK font.
    r.materiality.chain = chain;
    latin.thresholds = thresholds;
    expect(await fonts(latin)).toEqual(["NotoSans", "NotoSans-Bold", "NotoSansMath"]);
    const { stdout } = await run("pdftotext", [
      "-enc",
      "UTF-8",
      await toFile(await renderRecordPdf(latin)),
      "-",
    ]);
    expect(stdout).toContain(`Approval chain, in order: ${chain.join(" → ")}.`);
    expect(stdout).toMatch(/≥ \d/);
  });

  it("shapes Devanagari and combining marks (fontkit throws on Devanagari), and pdftotext gives the names back", async () => {
    const names = ["अनन्या शर्मा", "Nguye\u0302\u0303n Thi\u0323 Lan", "Ọlá Adéyẹmí"];
    const input = pdfInput({ approvals: 3 });
    input.approvals = input.approvals.map((a, i) => ({ ...a, subject: `CN=${names[i]!}, O=Example Bank` }));
    const { stdout } = await run("pdftotext", [
      "-enc",
      "UTF-8",
      await toFile(await renderRecordPdf(input)),
      "-",
    ]);
    for (const name of names) expect(stdout.normalize("NFC")).toContain(name.normalize("NFC"));
  });

  it("groups digests for reading without losing a digit", () => {
    const d = `sha256:${"0123456789abcdef".repeat(4)}`;
    expect(grouped(d)).toBe(
      "sha256: 01234567 89abcdef 01234567 89abcdef 01234567 89abcdef 01234567 89abcdef",
    );
    expect(grouped(d).replace(/ /g, "")).toBe(d);
  });

  it("shows the seal on page 1: the sealing certificate's subject and SHA-256, the sealing time, and how to verify", async () => {
    const { pki } = await devPki();
    const signer = await loadSigner({ type: "pem", key: pki.sealing.key, cert: pki.sealing.cert }, "k", {});
    const input = pdfInput();
    delete input.seal; // taken from the signer
    const page1 = (await textOf(await renderSignedRecordPdf(input, signer), 1, 1)).replace(/\s+/g, " ");
    const cert = new X509Certificate(await readFile(pki.sealing.cert));
    const fingerprint = cert.fingerprint256.replace(/:/g, "").toLowerCase();
    expect(page1).toContain(`Sealed by ${cert.subject.split("\n").join(", ")}`);
    expect(page1).toContain(`Sealing certificate SHA-256 ${grouped(fingerprint)}`);
    expect(page1).toContain("Sealed at 2026-11-21 10:00 UTC");
    expect(page1).toContain("sealgate verify <bundle.zip> --ca <root.pem>");
    expect(page1).toContain(
      "openssl cms -verify -binary -inform DER -in record.p7s -content record.json -CAfile <root.pem> -purpose smimesign -attime 1795255201 -signer signer.pem -out /dev/null",
    );
  });

  it("says on page 1 that a review package is not sealed yet", async () => {
    const input = { ...asReviewPackage(pdfInput()), seal: undefined };
    const page1 = (await textOf(await renderRecordPdf(input), 1, 1)).replace(/\s+/g, " ");
    expect(page1).toContain("Sealed by not sealed yet");
    expect(page1).toContain(`Assembled at 2026-11-21 09:59 UTC`);
  });

  it("shows every time as '2026-11-21 10:00 UTC', never as ISO 8601 with seconds or milliseconds", async () => {
    const input = pdfInput({ approvals: 5 });
    input.annotations = [];
    const text = (await textOf(await renderRecordPdf(input))).replace(/\s+/g, " ");
    expect(text).not.toMatch(/\d{4}-\d\d-\d\dT\d\d/);
    expect(text).not.toMatch(/:\d\d\.\d{3}/);
    expect(text).toContain("Observed in registry at 2026-11-21 09:59 UTC");
    for (const i of [0, 1, 2, 3, 4]) expect(text).toContain(`approve at 2026-11-21 09:0${i} UTC`);
  });

  it("writes 'not recorded' for a missing value: no table cell is empty or a bare dash", async () => {
    const input = pdfInput({ approvals: 2 });
    const r = input.record as PromotionRecord;
    r.dataset.context = "";
    r.request.scope = "";
    r.request.knownLimitations = "thin-file applicants under-represented";
    const text = (await textOf(await renderRecordPdf(input))).replace(/\s+/g, " ");
    // The candidate has no delta for "AUC (ΔROC)", the first approver left no comment, and the
    // history's added field had no value before.
    expect(text.replaceAll("under-represented — see slice report", "")).not.toContain("—");
    expect(text).toMatch(/AUC \(ΔROC\)\s+0\.3\s+0\.1\s+not recorded\s+no threshold/);
    expect(text).toMatch(/Scope\s+not recorded/);
    expect(text).toMatch(/Comment\s+none given/);
    expect(text).toMatch(/added\s+challenger\.candidate\.fairness_dir\s+not present\s+0\.91/);
    expect(text).toContain("eval_credit3 (context not recorded)");
  });

  it("says when no metric was recorded, rather than draw an empty table and chart", async () => {
    const input = pdfInput();
    const c = (input.record as PromotionRecord).challenger;
    c.candidate = {};
    c.challenger = {};
    c.delta = {};
    const text = (await textOf(await renderRecordPdf(input))).replace(/\s+/g, " ");
    expect(text).toContain("No metrics recorded for the candidate or the challenger.");
    expect(text).not.toContain("Metric Candidate Challenger");
  });

  it("labels the metric chart with each value and an axis of ticks", async () => {
    // The panels' text interleaves in reading order, so the layout test checks each panel; here
    // the ticks no table writes (auc from 0 to 1 in quarters, 指标 to 1e+21) and the value the
    // metric table wraps (9007199254740994) written whole on its bar.
    const text = (await textOf(await renderRecordPdf(pdfInput()))).split(/\s+/);
    for (const label of ["0.75", "0.25", "7.5e+20", "2.5e+20", "9007199254740994"])
      expect(text).toContain(label);
  });
});
