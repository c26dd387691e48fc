import { execFile } from "node:child_process";
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { beforeAll, describe, expect, it } from "vitest";
import { VENV_PYTHON } from "../../../src/dev/venv.js";
import type { SealgateError } from "../../../src/core/errors.js";
import type { KeySpec } from "../../../src/crypto/pki/keys.js";
import { type RecordPdfInput, renderSignedRecordPdf } from "../../../src/render/pdf/record-pdf.js";
import { verifyPdfSignature } from "../../../src/crypto/sign/pdf-signature.js";
import { loadSigner } from "../../../src/crypto/sign/load.js";
import type { Signer } from "../../../src/crypto/sign/signer.js";
import { withTimestamper } from "../../../src/crypto/sign/signer.js";
import { httpTimestamper } from "../../../src/crypto/sign/timestamp.js";
import { devPki } from "../../support/pki.js";
import { startTsa } from "../../support/tsa.js";
import { pdfInput } from "../../render/pdf/fixture.js";

const run = promisify(execFile);

/** An NSS database trusting only the dev root, for poppler's pdfsig. */
async function nssTrusting(rootPem: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "sealgate-nss-"));
  await run("certutil", ["-N", "-d", `sql:${dir}`, "--empty-password"]);
  await run("certutil", ["-A", "-d", `sql:${dir}`, "-n", "sealgate dev root", "-t", "CT,C,C", "-i", rootPem]);
  return dir;
}

async function file(bytes: Uint8Array) {
  const path = join(await mkdtemp(join(tmpdir(), "sealgate-signed-")), "record.pdf");
  await writeFile(path, bytes);
  return path;
}

/**
 * Signed now. The sample record was sealed at a fixed time, and the test PKI's certificates are
 * issued a day before the tests run: a day after that time, a seal dated by the record would
 * predate its own certificate.
 */
function signedNow(input: RecordPdfInput, signer: Signer) {
  const signature = { time: new Date(), name: signer.chain[0]!.subject, reason: "sealgate sealed record" };
  return renderSignedRecordPdf({ ...input, signature }, signer);
}

async function pdfsig(nss: string, path: string) {
  return run("pdfsig", ["-nssdir", `sql:${nss}`, path]).then(
    (r) => r.stdout,
    (e: { stdout?: string }) => e.stdout ?? "",
  );
}

async function pyhanko(path: string, root: string, ...flags: string[]) {
  return run(VENV_PYTHON, [join(import.meta.dirname, "pyhanko_validate.py"), path, root, ...flags]).then(
    (r) => ({ ok: true, out: r.stdout }),
    (e: { stdout?: string }) => ({ ok: false, out: e.stdout ?? "" }),
  );
}

describe.each(["ec-p256", "rsa-2048"] as KeySpec[])("PAdES seal with a %s key", (spec) => {
  let nss: string;
  beforeAll(async () => {
    nss = await nssTrusting((await devPki(spec)).pki.trust.anchors);
  });

  it("pdfsig and pyHanko both find it valid and trusted; a byte changed inside the signed range is rejected by both", async () => {
    const { pki, trust } = await devPki(spec);
    const signer = await loadSigner({ type: "pem", key: pki.sealing.key, cert: pki.sealing.cert }, "k", {});
    const signed = await signedNow(pdfInput({ approvals: 4 }), signer);
    const path = await file(signed);

    const report = await pdfsig(nss, path);
    expect(report).toContain("Signature Validation: Signature is Valid.");
    expect(report).toContain("Certificate Validation: Certificate is Trusted.");
    expect(report).toContain("ETSI.CAdES.detached");
    expect(report).toContain("Total document signed");
    const hanko = await pyhanko(path, pki.trust.anchors);
    expect(hanko.out).toMatch(/trusted|TRUSTED|valid/i);
    expect(hanko.ok, hanko.out).toBe(true);
    const ours = await verifyPdfSignature(signed, trust);
    expect(ours.signer.subject).toContain("sealgate evidence sealing");

    // One byte inside the signed range: a digit of the record digest on the cover.
    const tampered = Buffer.from(signed);
    const at = tampered.indexOf("/Title");
    tampered[at + 10] = tampered[at + 10] === 0x41 ? 0x42 : 0x41;
    const badPath = await file(tampered);
    expect(await pdfsig(nss, badPath)).not.toContain("Signature Validation: Signature is Valid.");
    expect((await pyhanko(badPath, pki.trust.anchors)).ok).toBe(false);
    expect(((await verifyPdfSignature(tampered, trust).catch((e) => e)) as SealgateError).code).toBe(
      "SIGNATURE_INVALID",
    );
  });

  it("carries a signature time-stamp (PAdES B-T) when the signer has a TSA: pyHanko and sealgate validate it", async () => {
    const { pki, trust } = await devPki(spec);
    const tsa = await startTsa(pki);
    const stamper = httpTimestamper({ url: tsa.url, required: true });
    try {
      const plain = await loadSigner({ type: "pem", key: pki.sealing.key, cert: pki.sealing.cert }, "k", {});
      const signed = await signedNow(pdfInput(), withTimestamper(plain, stamper));
      const hanko = await pyhanko(await file(signed), pki.trust.anchors, "--timestamp");
      expect(hanko.ok, hanko.out).toBe(true);
      const ours = await verifyPdfSignature(signed, trust);
      expect(ours.timestamp?.tsa.subject).toContain("Sealgate Dev TSA");
    } finally {
      await stamper.close();
      await tsa.stop();
    }
  });

  it("is not trusted by a verifier with another root", async () => {
    const { pki } = await devPki(spec);
    const other = await devPki(spec, "pdf-other");
    const signer = await loadSigner({ type: "pem", key: pki.sealing.key, cert: pki.sealing.cert }, "k", {});
    const path = await file(await signedNow(pdfInput(), signer));
    const report = await pdfsig(await nssTrusting(other.pki.trust.anchors), path);
    expect(report).toContain("Signature Validation: Signature is Valid.");
    expect(report).not.toContain("Certificate Validation: Certificate is Trusted.");
    expect((await pyhanko(path, other.pki.trust.anchors)).ok).toBe(false);
  });
});
