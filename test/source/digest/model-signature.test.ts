import { execFile } from "node:child_process";
import { mkdir, mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { verifyDsseBundle } from "../../../src/crypto/sign/dsse.js";
import { loadSigner } from "../../../src/crypto/sign/load.js";
import { VENV_PYTHON } from "../../../src/dev/venv.js";
import { hashLocalModel } from "../../../src/source/digest/model.js";
import {
  IN_TOTO_PAYLOAD_TYPE,
  modelStatement,
  signModel,
} from "../../../src/source/digest/model-signature.js";
import type { KeySpec } from "../../../src/crypto/pki/keys.js";
import { devPki } from "../../support/pki.js";

/*
 * Issue 21 item 8: the model signature sealgate writes is judged by OpenSSF's own
 * `model_signing verify certificate`, with the dev PKI's root as the only trust.
 */

const run = promisify(execFile);

async function modelDir() {
  const dir = await mkdtemp(join(tmpdir(), "sealgate-signed-model-"));
  await mkdir(join(dir, "weights/layer.0"), { recursive: true });
  await mkdir(join(dir, "tokenizer/日本"), { recursive: true });
  await writeFile(join(dir, "MLmodel"), "flavors: {}\n");
  await writeFile(join(dir, "weights/layer.0/w.bin"), Buffer.alloc(70_000, 7));
  await writeFile(join(dir, "weights.bin"), "z");
  await writeFile(join(dir, "EMPTY"), "");
  await writeFile(join(dir, "tokenizer/日本/vocab-ü.txt"), "Zoë\n");
  await writeFile(join(dir, ".gitignore"), "ignored by both sides\n");
  return dir;
}

async function modelSigningVerify(dir: string, sig: string, root: string) {
  try {
    const r = await run(
      VENV_PYTHON,
      ["-m", "model_signing", "verify", "certificate", dir, "--signature", sig, "--certificate_chain", root],
      { maxBuffer: 16 << 20 },
    );
    return { ok: true, out: r.stdout + r.stderr };
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string };
    return { ok: false, out: `${e.stdout ?? ""}${e.stderr ?? ""}` };
  }
}

async function signedModel(spec: KeySpec) {
  const { pki, trust } = await devPki(spec);
  const signer = await loadSigner({ type: "pem", key: pki.sealing.key, cert: pki.sealing.cert }, "k", {});
  const dir = await modelDir();
  const manifest = await hashLocalModel(dir);
  const bundle = await signModel(manifest, "credit-risk/3", signer);
  const sig = join(await mkdtemp(join(tmpdir(), "sealgate-sig-")), "model.sig");
  await writeFile(sig, JSON.stringify(bundle));
  return { pki, trust, dir, manifest, sig };
}

describe("the model signature, judged by model_signing", () => {
  for (const spec of ["ec-p256", "ec-p384"] as const) {
    it(`model_signing verify certificate accepts it (${spec}) and refuses a changed byte`, async () => {
      const { pki, trust, dir, manifest, sig } = await signedModel(spec);
      const good = await modelSigningVerify(dir, sig, pki.trust.anchors);
      expect(good.out).toContain("Verification succeeded");
      expect(good.ok).toBe(true);

      // sealgate's own reading of it agrees, and the statement is the manifest's.
      const verified = await verifyDsseBundle(await readFile(sig), trust, {
        purpose: "sealing",
        at: new Date(),
        payloadType: IN_TOTO_PAYLOAD_TYPE,
      });
      expect(verified.payload).toEqual(Buffer.from(modelStatement(manifest, "credit-risk/3")));

      const weights = join(dir, "weights/layer.0/w.bin");
      const bytes = await readFile(weights);
      bytes[12_345] = bytes[12_345]! ^ 1;
      await writeFile(weights, bytes);
      const bad = await modelSigningVerify(dir, sig, pki.trust.anchors);
      expect(bad.ok).toBe(false);
      expect(bad.out).toContain("weights/layer.0/w.bin");
    });
  }

  it("a file added after signing fails it too", async () => {
    const { pki, dir, sig } = await signedModel("ec-p256");
    await writeFile(join(dir, "backdoor.py"), "print('hi')\n");
    const r = await modelSigningVerify(dir, sig, pki.trust.anchors);
    expect(r.ok).toBe(false);
    expect(r.out).toContain("backdoor.py");
  });

  it("a statement swapped into the envelope fails both verifiers", async () => {
    const { pki, trust, dir, sig } = await signedModel("ec-p256");
    const bundle = JSON.parse(await readFile(sig, "utf8"));
    const statement = JSON.parse(Buffer.from(bundle.dsseEnvelope.payload, "base64").toString());
    statement.predicate.resources[0].digest = "0".repeat(64);
    bundle.dsseEnvelope.payload = Buffer.from(JSON.stringify(statement)).toString("base64");
    await writeFile(sig, JSON.stringify(bundle));
    expect((await modelSigningVerify(dir, sig, pki.trust.anchors)).ok).toBe(false);
    await expect(
      verifyDsseBundle(await readFile(sig), trust, { purpose: "sealing", at: new Date() }),
    ).rejects.toMatchObject({ code: "SIGNATURE_INVALID" });
  });

  it("a root the signer does not chain to is refused by both", async () => {
    const { dir, sig } = await signedModel("ec-p256");
    const other = await devPki("ec-p256", "other-root");
    expect((await modelSigningVerify(dir, sig, other.pki.trust.anchors)).ok).toBe(false);
    await expect(
      verifyDsseBundle(await readFile(sig), other.trust, { purpose: "sealing", at: new Date() }),
    ).rejects.toMatchObject({ code: "CERT_UNTRUSTED_ROOT" });
  });

  it("an RSA sealing key cannot write one, and says why", async () => {
    const { pki } = await devPki("rsa-2048");
    const signer = await loadSigner({ type: "pem", key: pki.sealing.key, cert: pki.sealing.cert }, "k", {});
    const manifest = await hashLocalModel(await modelDir());
    await expect(signModel(manifest, "m/1", signer)).rejects.toMatchObject({ code: "KEY_UNSUPPORTED" });
  });
});
