import { execFile } from "node:child_process";
import { createPrivateKey } from "node:crypto";
import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { VENV_PYTHON } from "../../../src/dev/venv.js";
import type { SealgateError } from "../../../src/core/errors.js";
import type { KeySpec } from "../../../src/crypto/pki/keys.js";
import { b64u } from "../../../src/crypto/sign/base64.js";
import { type FlattenedJws, signJws, toCompact, verifyJws } from "../../../src/crypto/sign/jws.js";
import type { RsaScheme } from "../../../src/crypto/sign/key-signer.js";
import { type KeySource, loadSigner } from "../../../src/crypto/sign/load.js";
import { devPki } from "../../support/pki.js";
import { respell } from "../../support/respell.js";

const run = promisify(execFile);
const payload = Buffer.from('{"model":"credit-risk","note":"Zoë 李雷","version":"3"}');
const TYP = "application/vnd.sealgate.test+jws";
const now = () => new Date();
const codeOf = (p: Promise<unknown>) =>
  p.then(
    () => "valid",
    (e: SealgateError) => e.code,
  );

async function sources(spec: KeySpec, rsa?: RsaScheme): Promise<Record<string, KeySource>> {
  const { pki } = await devPki(spec);
  const dir = await mkdtemp(join(tmpdir(), "sealgate-keys-"));
  const encrypted = join(dir, "sealing.enc.key");
  const key = createPrivateKey(await readFile(pki.sealing.key));
  await writeFile(
    encrypted,
    key.export({ type: "pkcs8", format: "pem", cipher: "aes-256-cbc", passphrase: "s3cret pass" }),
  );
  await writeFile(join(dir, "pass"), "s3cret pass\n");
  const r = rsa ? { rsa } : {};
  return {
    pem: { type: "pem", key: pki.sealing.key, cert: pki.sealing.cert, ...r },
    "encrypted pem": {
      type: "pem",
      key: encrypted,
      cert: pki.sealing.cert,
      passphrase: `file:${join(dir, "pass")}`,
      ...r,
    },
    pkcs12: { type: "pkcs12", file: pki.sealing.p12, passphrase: pki.p12Passphrase, ...r },
  };
}

const matrix: [KeySpec, RsaScheme | undefined, string][] = [
  ["ec-p256", undefined, "ES256"],
  ["ec-p384", undefined, "ES384"],
  ["rsa-2048", "pss", "PS256"],
  ["rsa-2048", "pkcs1", "RS256"],
];

describe.each(matrix)("signing with %s keys (%s)", (spec, rsa, alg) => {
  it.each(["pem", "encrypted pem", "pkcs12"])(
    "round-trips a JWS from a %s key, and jwcrypto agrees",
    async (format) => {
      const { trust } = await devPki(spec);
      const signer = await loadSigner((await sources(spec, rsa))[format]!, "signing.key", {});
      expect(signer.algorithm).toBe(alg);
      expect(signer.chain).toHaveLength(2);
      const jws = await signJws(payload, signer, TYP);
      const verified = await verifyJws(jws, trust, { purpose: "sealing", at: now(), typ: TYP });
      expect(Buffer.from(verified.payload)).toEqual(payload);
      expect(verified.path).toHaveLength(3);
      const file = join(await mkdtemp(join(tmpdir(), "sealgate-jws-")), "x.jws");
      await writeFile(file, JSON.stringify(jws));
      const { stdout } = await run(VENV_PYTHON, [join(import.meta.dirname, "jwcrypto_verify.py"), file]);
      expect(JSON.parse(stdout)).toEqual({ alg, payload: payload.toString("utf8") });
    },
  );
});

describe("JWS verification refuses", () => {
  const fixture = async () => {
    const { trust } = await devPki();
    const signer = await loadSigner((await sources("ec-p256")).pem!, "k", {});
    return { trust, signer, jws: await signJws(payload, signer, TYP) };
  };
  const verify = (jws: FlattenedJws | string, trust: Awaited<ReturnType<typeof devPki>>["trust"]) =>
    codeOf(verifyJws(jws, trust, { purpose: "sealing", at: now() }));

  it("a valid signature over different bytes", async () => {
    const { trust, signer, jws } = await fixture();
    const other = await signJws(Buffer.from("other"), signer, TYP);
    expect(await verify({ ...jws, payload: other.payload }, trust)).toBe("SIGNATURE_INVALID");
  });

  it("a truncated or empty signature", async () => {
    const { trust, jws } = await fixture();
    const truncated = b64u(Buffer.from(jws.signature, "base64url").subarray(0, -3));
    expect(await verify({ ...jws, signature: truncated }, trust)).toBe("SIGNATURE_INVALID");
    expect(await verify({ ...jws, signature: "" }, trust)).toBe("SIGNATURE_INVALID");
  });

  it("the same signature bytes spelled another way (the signature is the one part not signed)", async () => {
    const { trust, jws } = await fixture();
    const other = respell(jws.signature, "base64url");
    expect(Buffer.from(other, "base64url")).toEqual(Buffer.from(jws.signature, "base64url"));
    expect(await verify({ ...jws, signature: other }, trust)).toBe("SIGNATURE_MALFORMED");
    expect(await verify(toCompact({ ...jws, signature: other }), trust)).toBe("SIGNATURE_MALFORMED");
  });

  it("a swapped x5c, even with a matching kid", async () => {
    const { trust, jws } = await fixture();
    const { pki } = await devPki();
    const approver = await loadSigner(
      { type: "pem", key: pki.approvers[0]!.key, cert: pki.approvers[0]!.cert },
      "k",
      {},
    );
    const header = JSON.parse(Buffer.from(jws.protected, "base64url").toString());
    const swapped = await signJws(payload, approver, TYP);
    const swappedHeader = JSON.parse(Buffer.from(swapped.protected, "base64url").toString());
    const forged = { ...header, x5c: swappedHeader.x5c, kid: swappedHeader.kid };
    expect(await verify({ ...jws, protected: b64u(JSON.stringify(forged)) }, trust)).toBe(
      "SIGNATURE_INVALID",
    );
  });

  it("a record signed with an approver's key (approvers may not seal)", async () => {
    const { pki, trust } = await devPki();
    const a = pki.approvers[0]!;
    const signer = await loadSigner({ type: "pem", key: a.key, cert: a.cert }, "k", {});
    expect(await verify(await signJws(payload, signer, TYP), trust)).toBe("CERT_BAD_EXTENDED_KEY_USAGE");
  });

  it("a chain to a different root", async () => {
    const { jws } = await fixture();
    const other = await devPki("ec-p256", "other-root");
    expect(await verify(jws, other.trust)).toBe("CERT_UNTRUSTED_ROOT");
  });

  it("algorithm confusion: RSA names on an EC key, HMAC, none, and PKCS#1 for a PSS signature", async () => {
    const { trust, jws } = await fixture();
    const header = JSON.parse(Buffer.from(jws.protected, "base64url").toString());
    for (const alg of ["RS256", "PS256", "ES384"]) {
      expect(await verify({ ...jws, protected: b64u(JSON.stringify({ ...header, alg })) }, trust)).toBe(
        "SIGNATURE_ALGORITHM_MISMATCH",
      );
    }
    for (const alg of ["HS256", "none"]) {
      expect(await verify({ ...jws, protected: b64u(JSON.stringify({ ...header, alg })) }, trust)).toBe(
        "SIGNATURE_MALFORMED",
      );
    }
    const rsaTrust = (await devPki("rsa-2048")).trust;
    const pss = await signJws(
      payload,
      await loadSigner((await sources("rsa-2048", "pss")).pem!, "k", {}),
      TYP,
    );
    const rsaHeader = JSON.parse(Buffer.from(pss.protected, "base64url").toString());
    const relabelled = { ...pss, protected: b64u(JSON.stringify({ ...rsaHeader, alg: "RS256" })) };
    expect(await verify(relabelled, rsaTrust)).toBe("SIGNATURE_INVALID");
  });

  it("garbage in any part, with a typed error and no crash", async () => {
    const { trust, jws } = await fixture();
    for (const bad of ["", "a.b", "a.b.c.d", "!!.??.##", toCompact(jws).replace(".", "x.")]) {
      expect(await verify(bad, trust)).toMatch(/^SIGNATURE_/);
    }
    expect(await verify({ ...jws, protected: b64u("[1,2]") }, trust)).toBe("SIGNATURE_MALFORMED");
    expect(
      await verify(
        { ...jws, protected: b64u(JSON.stringify({ alg: "ES256", typ: TYP, kid: "x", x5c: ["%%%"] })) },
        trust,
      ),
    ).toBe("SIGNATURE_MALFORMED");
  });

  it("accepts the compact form of the same signature", async () => {
    const { trust, jws } = await fixture();
    expect(await verify(toCompact(jws), trust)).toBe("valid");
  });
});

describe("key loading errors name the problem and never the secret", () => {
  it("a wrong passphrase for PEM and PKCS#12", async () => {
    const s = await sources("ec-p256");
    const dir = await mkdtemp(join(tmpdir(), "sealgate-pass-"));
    await writeFile(join(dir, "wrong"), "not-the-passphrase");
    const wrong = `file:${join(dir, "wrong")}`;
    for (const src of [
      { ...s["encrypted pem"]!, passphrase: wrong },
      { ...s.pkcs12!, passphrase: wrong },
    ] as KeySource[]) {
      const err = (await loadSigner(src, "sealing.key", {}).catch((e: unknown) => e)) as SealgateError;
      expect(err.code).toBe("KEY_UNREADABLE");
      expect(err.message).not.toContain("not-the-passphrase");
    }
  });

  it("a key that does not belong to the certificate", async () => {
    const { pki } = await devPki();
    const err = (await loadSigner(
      { type: "pem", key: pki.approvers[0]!.key, cert: pki.sealing.cert },
      "k",
      {},
    ).catch((e: unknown) => e)) as SealgateError;
    expect(err.code).toBe("KEY_CERT_MISMATCH");
  });
});
