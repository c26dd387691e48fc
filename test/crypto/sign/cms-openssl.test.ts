import { execFile } from "node:child_process";
import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import type { SealgateError } from "../../../src/core/errors.js";
import type { KeySpec } from "../../../src/crypto/pki/keys.js";
import { decodeCmsDetached, signCmsDetached, verifyCmsDetached } from "../../../src/crypto/sign/cms.js";
import { loadSigner } from "../../../src/crypto/sign/load.js";
import { fingerprint } from "../../../src/crypto/pki/x509.js";
import { devPki } from "../../support/pki.js";

/*
 * A seal made by another CMS implementation verifies: OpenSSL writes SHA-2 digest algorithm
 * identifiers with absent parameters (RFC 5754 §2: writers SHOULD omit them, readers MUST
 * accept both), and CAdES adds a signingCertificateV2 attribute. sealgate itself writes NULL.
 */

const run = promisify(execFile);
const data = Buffer.from('{"record":"canonical bytes","who":"Ægir Þórsson"}');
const SHA256_NULL = Buffer.from("06096086480165030402010500", "hex");

async function opensslSign(spec: KeySpec, extra: string[] = []) {
  const { pki, trust } = await devPki(spec);
  const dir = await mkdtemp(join(tmpdir(), "sealgate-cms-ossl-"));
  await writeFile(join(dir, "data"), data);
  // -cades: a signingCertificateV2 attribute, as CAdES-BES asks.
  await run("openssl", [
    "cms", "-sign", "-cades", "-binary", "-outform", "DER", "-md", spec === "ec-p384" ? "sha384" : "sha256",
    "-in", join(dir, "data"), "-signer", pki.sealing.cert, "-inkey", pki.sealing.key,
    "-certfile", pki.trust.intermediates, "-out", join(dir, "sig.p7s"), ...extra,
  ]); // prettier-ignore
  return { p7s: await readFile(join(dir, "sig.p7s")), trust, pki };
}

const codeOf = (p: Promise<unknown>) =>
  p.then(
    () => "valid",
    (e: SealgateError) => e.code,
  );

describe("CMS seals made by openssl cms -sign -cades", () => {
  it.each([
    ["ec-p256", []],
    ["ec-p384", []],
    ["rsa-2048", []],
    ["rsa-2048", ["-keyopt", "rsa_padding_mode:pss"]],
  ] as [KeySpec, string[]][])(
    "%s %j: absent digest parameters verify; other content does not",
    async (spec, extra) => {
      const { p7s, trust, pki } = await opensslSign(spec, extra);
      // What this test is about: OpenSSL omits the digest algorithms' parameters.
      const { signedData, si } = decodeCmsDetached(p7s);
      for (const a of [...signedData.digestAlgorithms, si.digestAlgorithm])
        expect(a.algorithmParams).toBeUndefined();
      const v = await verifyCmsDetached(p7s, data, trust, "sealing");
      expect(await fingerprint(v.signer)).toBe(pki.sealing.fingerprint);
      const other = Buffer.from(data);
      other[3] = other[3]! ^ 1;
      expect(await codeOf(verifyCmsDetached(p7s, other, trust, "sealing"))).toBe("SIGNATURE_INVALID");
    },
  );

  it("sealgate's own NULL parameters, dropped to absent, still verify; any other parameter is refused", async () => {
    const { pki, trust } = await devPki("ec-p256");
    const signer = await loadSigner({ type: "pem", key: pki.sealing.key, cert: pki.sealing.cert }, "k", {});
    const p7s = Buffer.from(await signCmsDetached(data, signer, new Date()));
    expect(p7s.includes(SHA256_NULL)).toBe(true);
    // NULL (05 00) to an empty OCTET STRING (04 00): same length, so every DER length stays right.
    const octet = Buffer.from(
      p7s.toString("hex").replaceAll(SHA256_NULL.toString("hex"), "060960864801650304020104" + "00"),
      "hex",
    );
    expect(await codeOf(verifyCmsDetached(octet, data, trust, "sealing"))).toBe("SIGNATURE_MALFORMED");
  });
});
