import { execFile } from "node:child_process";
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import type { SealgateError } from "../../../src/core/errors.js";
import type { KeySpec } from "../../../src/crypto/pki/keys.js";
import { signCmsDetached, verifyCmsDetached } from "../../../src/crypto/sign/cms.js";
import type { RsaScheme } from "../../../src/crypto/sign/key-signer.js";
import { loadSigner } from "../../../src/crypto/sign/load.js";
import { devPki } from "../../support/pki.js";

const run = promisify(execFile);
const data = Buffer.from('{"record":"canonical bytes","who":"Ægir Þórsson"}');
const codeOf = (p: Promise<unknown>) =>
  p.then(
    () => "valid",
    (e: SealgateError) => e.code,
  );

async function sealingSigner(spec: KeySpec, rsa?: RsaScheme) {
  const { pki, trust } = await devPki(spec);
  const signer = await loadSigner(
    { type: "pem", key: pki.sealing.key, cert: pki.sealing.cert, ...(rsa ? { rsa } : {}) },
    "k",
    {},
  );
  return { pki, trust, signer };
}

async function opensslVerify(p7s: Uint8Array, content: Uint8Array, anchors: string) {
  const dir = await mkdtemp(join(tmpdir(), "sealgate-cms-"));
  await writeFile(join(dir, "sig.p7s"), p7s);
  await writeFile(join(dir, "data"), content);
  // Exactly the command an auditor runs: no -purpose any, no -noverify.
  return run("openssl", [
    "cms",
    "-verify",
    "-binary",
    "-inform",
    "DER",
    "-in",
    join(dir, "sig.p7s"),
    "-content",
    join(dir, "data"),
    "-CAfile",
    anchors,
    "-out",
    "/dev/null",
  ]);
}

describe.each([
  ["ec-p256", undefined],
  ["ec-p384", undefined],
  ["rsa-2048", "pss"],
  ["rsa-2048", "pkcs1"],
] as [KeySpec, RsaScheme | undefined][])("CMS detached signatures with %s (%s)", (spec, rsa) => {
  it("verify with openssl cms and with sealgate; tampering is caught by both", async () => {
    const { pki, trust, signer } = await sealingSigner(spec, rsa);
    const at = new Date();
    const p7s = await signCmsDetached(data, signer, at);
    const { stderr } = await opensslVerify(p7s, data, pki.trust.anchors);
    expect(stderr).toContain("Verification successful");
    const v = await verifyCmsDetached(p7s, data, trust);
    expect(v.signingTime.getTime()).toBe(Math.floor(at.getTime() / 1000) * 1000);
    expect(v.path).toHaveLength(3);
    const tampered = Buffer.from(data);
    tampered[5]! ^= 1;
    await expect(opensslVerify(p7s, tampered, pki.trust.anchors)).rejects.toThrow(
      /Verification failure|digest failure/i,
    );
    expect(await codeOf(verifyCmsDetached(p7s, tampered, trust))).toBe("SIGNATURE_INVALID");
  });
});

describe("CMS verification refuses", () => {
  it("any flipped byte: a typed error, or (in meaningless tag bits pkijs tolerates) the very same verified facts", async () => {
    const { trust, signer } = await sealingSigner("ec-p256");
    const p7s = await signCmsDetached(data, signer, new Date());
    const original = await verifyCmsDetached(p7s, data, trust);
    let caught = 0;
    for (let i = 0; i < p7s.length; i++) {
      const copy = Buffer.from(p7s);
      copy[i]! ^= 0x40;
      const r = await verifyCmsDetached(copy, data, trust).catch((e: SealgateError) => e);
      if (r instanceof Error) {
        expect(r.code).toMatch(/^(SIGNATURE_|CERT_)/);
        caught++;
      } else {
        expect(Buffer.from(r.signer.rawData)).toEqual(Buffer.from(original.signer.rawData));
        expect(r.signingTime).toEqual(original.signingTime);
      }
    }
    expect(caught).toBeGreaterThan(p7s.length * 0.99);
    expect(await codeOf(verifyCmsDetached(p7s.subarray(0, p7s.length - 30), data, trust))).toMatch(
      /^SIGNATURE_/,
    );
  });

  it("a signature whose chain leads to another root", async () => {
    const { signer } = await sealingSigner("ec-p256");
    const other = await devPki("ec-p256", "cms-other");
    const p7s = await signCmsDetached(data, signer, new Date());
    expect(await codeOf(verifyCmsDetached(p7s, data, other.trust))).toBe("CERT_UNTRUSTED_ROOT");
    await expect(opensslVerify(p7s, data, other.pki.trust.anchors)).rejects.toThrow();
  });

  it("an approver's certificate used to seal is refused for the sealing purpose", async () => {
    const { pki, trust } = await devPki("ec-p256");
    const a = pki.approvers[0]!;
    const signer = await loadSigner({ type: "pem", key: a.key, cert: a.cert }, "k", {});
    const p7s = await signCmsDetached(data, signer, new Date());
    expect(await codeOf(verifyCmsDetached(p7s, data, trust, "sealing"))).toBe("CERT_BAD_EXTENDED_KEY_USAGE");
    expect(await codeOf(verifyCmsDetached(p7s, data, trust, "timestamping"))).toBe(
      "CERT_BAD_EXTENDED_KEY_USAGE",
    );
  });
});
