import { execFile } from "node:child_process";
import { readFile } from "node:fs/promises";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { BAD_CERTS } from "../../../src/crypto/pki/dev-pki.js";
import { loadTrust } from "../../../src/crypto/pki/trust.js";
import { type Purpose, validatePath } from "../../../src/crypto/pki/validate.js";
import { createPrivateKey } from "node:crypto";
import { issueCertificate } from "../../../src/crypto/pki/issue.js";
import { OID, parsePemCertificates, subtle, x509 } from "../../../src/crypto/pki/x509.js";
import type { SealgateError } from "../../../src/core/errors.js";
import { devPki } from "../../support/pki.js";

const run = promisify(execFile);

async function validate(
  certFile: string,
  purpose: Purpose,
  trust: Awaited<ReturnType<typeof devPki>>["trust"],
  at = new Date(),
) {
  const [leaf, ...rest] = parsePemCertificates(await readFile(certFile, "utf8"), certFile);
  return validatePath(leaf!, rest, trust, { at, purpose });
}

const codeOf = (p: Promise<unknown>) =>
  p.then(
    () => "valid",
    (e: SealgateError) => e.code,
  );

describe("the development PKI", () => {
  it("issues chains that openssl accepts for the uses sealgate needs", async () => {
    const { pki } = await devPki();
    const untrusted = ["-untrusted", pki.trust.intermediates];
    await run("openssl", [
      "verify",
      "-CAfile",
      pki.trust.anchors,
      ...untrusted,
      "-purpose",
      "smimesign",
      pki.sealing.cert,
    ]);
    await run("openssl", [
      "verify",
      "-CAfile",
      pki.trust.anchors,
      ...untrusted,
      "-purpose",
      "timestampsign",
      pki.tsa.cert,
    ]);
    for (const a of pki.approvers) {
      await run("openssl", [
        "verify",
        "-CAfile",
        pki.trust.anchors,
        ...untrusted,
        "-purpose",
        "smimesign",
        a.cert,
      ]);
    }
  });

  it("writes PKCS#12 files that openssl opens with the passphrase (and only with it)", async () => {
    const { pki } = await devPki();
    const pass = (await readFile(pki.p12Passphrase.slice(5), "utf8")).trim();
    const { stdout } = await run("openssl", [
      "pkcs12",
      "-in",
      pki.sealing.p12,
      "-passin",
      `pass:${pass}`,
      "-nokeys",
    ]);
    expect(stdout).toContain("sealgate evidence sealing");
    await expect(
      run("openssl", ["pkcs12", "-in", pki.sealing.p12, "-passin", "pass:wrong", "-nokeys"]),
    ).rejects.toThrow();
  });

  it("puts approver names in any script and their emails in the SAN", async () => {
    const { pki } = await devPki();
    const li = pki.approvers.find((a) => a.email === "li.lei@example.org")!;
    const { stdout } = await run("openssl", [
      "x509",
      "-in",
      li.cert,
      "-noout",
      "-subject",
      "-ext",
      "subjectAltName",
      "-nameopt",
      "utf8",
    ]);
    expect(stdout).toContain("CN=李雷");
    expect(stdout).toContain("email:li.lei@example.org");
  });
});

describe("path validation", () => {
  it("accepts the sealing, approver and TSA certificates for their purposes", async () => {
    const { pki, trust } = await devPki();
    expect((await validate(pki.sealing.cert, "sealing", trust)).path).toHaveLength(3);
    await validate(pki.approvers[0]!.cert, "approval", trust);
    await validate(pki.tsa.cert, "timestamping", trust);
  });

  const expected: Record<(typeof BAD_CERTS)[number], string> = {
    expired: "CERT_EXPIRED",
    "not-yet-valid": "CERT_NOT_YET_VALID",
    "wrong-issuer": "CERT_UNTRUSTED_ROOT",
    "no-key-usage": "CERT_BAD_KEY_USAGE",
    "self-signed": "CERT_UNTRUSTED_ROOT",
    revoked: "CERT_REVOKED",
  };
  it.each(BAD_CERTS)("refuses the %s certificate with its own code", async (name) => {
    const { pki, trust } = await devPki();
    expect(await codeOf(validate(pki.bad[name].cert, "approval", trust))).toBe(expected[name]);
  });

  it("refuses a certificate used for a purpose its EKU does not allow", async () => {
    const { pki, trust } = await devPki();
    expect(await codeOf(validate(pki.tsa.cert, "sealing", trust))).toBe("CERT_BAD_EXTENDED_KEY_USAGE");
    expect(await codeOf(validate(pki.approvers[0]!.cert, "timestamping", trust))).toBe(
      "CERT_BAD_EXTENDED_KEY_USAGE",
    );
  });

  it("keeps sealing and approval apart: the sealing certificate may not approve, an approver may not seal", async () => {
    const { pki, trust } = await devPki();
    expect(await codeOf(validate(pki.sealing.cert, "approval", trust))).toBe("CERT_BAD_EXTENDED_KEY_USAGE");
    expect(await codeOf(validate(pki.approvers[0]!.cert, "sealing", trust))).toBe(
      "CERT_BAD_EXTENDED_KEY_USAGE",
    );
  });

  it("lets anyExtendedKeyUsage qualify for no purpose", async () => {
    const { pki, trust, dir } = await devPki();
    const [issuingCert] = parsePemCertificates(await readFile(pki.trust.intermediates, "utf8"), "issuing");
    const keyDer = createPrivateKey(await readFile(`${dir}/issuing-ca.key`)).export({
      type: "pkcs8",
      format: "der",
    });
    const key = await subtle.importKey("pkcs8", keyDer, { name: "ECDSA", namedCurve: "P-256" }, false, [
      "sign",
    ]);
    const issueWith = (oids: string[]) =>
      issueCertificate({
        subject: "CN=Any Purpose Leaf",
        spec: "ec-p256",
        issuer: { cert: issuingCert!, key, spec: "ec-p256" },
        notBefore: new Date(Date.now() - 86_400_000),
        notAfter: new Date(Date.now() + 86_400_000),
        keyUsage: x509.KeyUsageFlags.digitalSignature,
        eku: { oids },
      });
    const any = await issueWith([OID.anyExtendedKeyUsage]);
    for (const purpose of ["sealing", "approval", "timestamping"] as const) {
      await expect(validatePath(any.cert, [], trust, { at: new Date(), purpose })).rejects.toMatchObject({
        code: "CERT_BAD_EXTENDED_KEY_USAGE",
      });
    }
    // The same issuance with a real EKU passes, so the refusal above is the EKU's doing.
    const doc = await issueWith([OID.documentSigning]);
    await validatePath(doc.cert, [], trust, { at: new Date(), purpose: "sealing" });
  });

  it("checks validity at the signing time, not now", async () => {
    const { pki, trust } = await devPki();
    const longAgo = new Date(Date.now() - 400 * 86_400_000);
    expect(await codeOf(validate(pki.bad.expired.cert, "approval", trust, longAgo))).toBe("valid");
    expect(
      await codeOf(validate(pki.sealing.cert, "sealing", trust, new Date(Date.now() + 3 * 365 * 86_400_000))),
    ).toBe("CERT_EXPIRED");
  });

  it("never trusts a root for being in the supplied chain", async () => {
    const { pki } = await devPki();
    const other = await devPki("ec-p256", "other");
    expect(await codeOf(validate(pki.sealing.cert, "sealing", other.trust))).toBe("CERT_UNTRUSTED_ROOT");
    const anchorsOnly = await loadTrust({ anchors: other.pki.trust.anchors });
    expect(await codeOf(validate(pki.sealing.cert, "sealing", anchorsOnly))).toBe("CERT_UNTRUSTED_ROOT");
  });

  it("without the CRL, the revoked certificate is not known to be revoked", async () => {
    const { pki } = await devPki();
    const noCrl = await loadTrust({ anchors: pki.trust.anchors, intermediates: pki.trust.intermediates });
    expect(await codeOf(validate(pki.bad.revoked.cert, "approval", noCrl))).toBe("valid");
  });
});
