import { mkdir, mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { artefactLines } from "../../src/dev/demo-summary.js";

/*
 * The demo's closing summary, with or without --keep, tells a new user where the sealed PDFs,
 * the bundles and the CA file are; a path it prints must exist.
 */

async function demoTree() {
  const root = await mkdtemp(join(tmpdir(), "sealgate-summary-"));
  const out = join(root, "demo-out");
  const a = {
    config: join(out, "sealgate.yaml"),
    store: join(out, "store"),
    ca: join(out, "pki/trust/anchors.pem"),
    intermediates: join(out, "pki/trust/intermediates.pem"),
    bundles: [join(out, "bundles/credit-risk-v3.zip")],
    pdfs: [
      join(out, "pdfs/credit-risk-v3-cycle1-record.pdf"),
      join(out, "pdfs/credit-risk-v3-cycle1-review.pdf"),
    ],
  };
  for (const dir of ["store", "pki/trust", "bundles", "pdfs"])
    await mkdir(join(out, dir), { recursive: true });
  for (const f of [a.config, a.ca, a.intermediates, ...a.bundles, ...a.pdfs]) await writeFile(f, "x");
  return { root, a };
}

describe("demo summary", () => {
  it("names the PDFs, bundles and CA file, relative to the repo root", async () => {
    const { root, a } = await demoTree();
    const lines = await artefactLines(a, root);
    expect(lines[0]).toBe(`where everything is (paths relative to ${root}):`);
    expect(lines).toContain("    CA (trust anchor)  demo-out/pki/trust/anchors.pem");
    expect(lines).toContain("    bundle             demo-out/bundles/credit-risk-v3.zip");
    expect(lines).toContain("    PDF                demo-out/pdfs/credit-risk-v3-cycle1-record.pdf");
    expect(lines).toContain("    PDF                demo-out/pdfs/credit-risk-v3-cycle1-review.pdf");
    expect(lines).toContain("    store              demo-out/store");
  });

  it("prints absolute paths outside the repo root", async () => {
    const { a } = await demoTree();
    const lines = await artefactLines(a, "/nonexistent-root");
    expect(lines).toContain(`    CA (trust anchor)  ${a.ca}`);
  });

  it("refuses to name a file the demo did not write, or to name no PDF at all", async () => {
    const { root, a } = await demoTree();
    const missing = join(root, "demo-out/pdfs/fraud-detector-v3-cycle2-record.pdf");
    await expect(artefactLines({ ...a, pdfs: [...a.pdfs, missing] }, root)).rejects.toThrow(
      `the summary names PDF ${missing}, which does not exist`,
    );
    await expect(artefactLines({ ...a, pdfs: [] }, root)).rejects.toThrow(/no bundle or no PDF/);
  });
});
