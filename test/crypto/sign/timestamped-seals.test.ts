import { execFile } from "node:child_process";
import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import * as asn1js from "asn1js";
import * as pkijs from "pkijs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { SealgateError } from "../../../src/core/errors.js";
import { sha256hex } from "../../../src/evidence/ledger/ledger.js";
import type { Digest } from "../../../src/core/digest.js";
import { decodeCheckpoint, verifyCheckpoint } from "../../../src/evidence/ledger/checkpoint.js";
import { FileLedger } from "../../../src/evidence/ledger/file-ledger.js";
import { Verifier } from "../../../src/evidence/verify/verifier.js";
import { decodeCmsDetached, signCmsDetached, verifyCmsDetached } from "../../../src/crypto/sign/cms.js";
import { loadSigner } from "../../../src/crypto/sign/load.js";
import { type Signer, withTimestamper } from "../../../src/crypto/sign/signer.js";
import { httpTimestamper } from "../../../src/crypto/sign/timestamp.js";
import { devPki } from "../../support/pki.js";
import { startTsa } from "../../support/tsa.js";

/*
 * Issue 21 item 3: RFC 3161 time-stamps used for real. Every token sealgate stores (the CMS's
 * CAdES-T attribute, the checkpoint's) is accepted by `openssl ts -verify` and by sealgate; a
 * token over other bytes is refused; a required TSA that is down stops the seal.
 */

const run = promisify(execFile);
const data = Buffer.from('{"record":"canonical bytes"}');
const codeOf = (p: Promise<unknown>) =>
  p.then(
    () => "valid",
    (e: SealgateError) => e.code,
  );

let tsa: Awaited<ReturnType<typeof startTsa>>;
let stamper: ReturnType<typeof httpTimestamper>;
let signer: Signer;
let plain: Signer;

beforeAll(async () => {
  const { pki, trust } = await devPki();
  tsa = await startTsa(pki);
  stamper = httpTimestamper({ url: tsa.url, required: true }, { trust });
  plain = await loadSigner({ type: "pem", key: pki.sealing.key, cert: pki.sealing.cert }, "k", {});
  signer = withTimestamper(plain, stamper);
});
afterAll(async () => {
  await stamper?.close();
  await tsa?.stop();
});

/** `openssl ts -verify` of a token over `covered`, trusting only the dev root (intermediates untrusted). */
async function opensslTsVerify(token: Uint8Array, covered: Uint8Array) {
  const { pki } = await devPki();
  const dir = await mkdtemp(join(tmpdir(), "sealgate-tst-"));
  await writeFile(join(dir, "token.der"), token);
  await writeFile(join(dir, "data"), covered);
  const { stdout } = await run("openssl", [
    "ts",
    "-verify",
    "-token_in",
    "-in",
    join(dir, "token.der"),
    "-data",
    join(dir, "data"),
    "-CAfile",
    pki.trust.anchors,
    "-untrusted",
    pki.trust.intermediates,
  ]);
  return stdout;
}

describe("a sealed record's CMS, time-stamped (CAdES-T)", () => {
  it("carries a token over its signature value that openssl ts, openssl cms and sealgate accept", async () => {
    const { pki, trust } = await devPki();
    const before = tsa.requests;
    const p7s = await signCmsDetached(data, signer, new Date());
    expect(tsa.requests).toBe(before + 1);
    const d = decodeCmsDetached(p7s);
    expect(d.timestamp).toBeDefined();
    expect(await opensslTsVerify(d.timestamp!, d.signatureValue)).toContain("Verification: OK");
    const v = await verifyCmsDetached(p7s, data, trust);
    expect(v.timestamp?.tsa.subject).toContain("Sealgate Dev TSA");
    // The unsigned attribute does not disturb third-party CMS verification.
    const dir = await mkdtemp(join(tmpdir(), "sealgate-cades-t-"));
    await writeFile(join(dir, "r.p7s"), p7s);
    await writeFile(join(dir, "r.json"), data);
    const { stderr } = await run("openssl", [
      "cms",
      "-verify",
      "-binary",
      "-inform",
      "DER",
      "-in",
      join(dir, "r.p7s"),
      "-content",
      join(dir, "r.json"),
      "-CAfile",
      pki.trust.anchors,
      "-purpose",
      "smimesign",
      "-out",
      "/dev/null",
    ]);
    expect(stderr).toContain("Verification successful");
  });

  it("judges the certificate at the time-stamped time, not at the claimed signingTime", async () => {
    const { trust } = await devPki();
    // The sealing certificate is valid from yesterday: a claimed time ten days ago predates it.
    const claimed = new Date(Date.now() - 10 * 86_400_000);
    expect(await codeOf(verifyCmsDetached(await signCmsDetached(data, plain, claimed), data, trust))).toBe(
      "CERT_NOT_YET_VALID",
    );
    const v = await verifyCmsDetached(await signCmsDetached(data, signer, claimed), data, trust);
    expect(Math.abs(v.timestamp!.genTime.getTime() - Date.now())).toBeLessThan(3_600_000);
  });

  it("refuses a token over other bytes: one taken from another signature", async () => {
    const { trust } = await devPki();
    const a = await signCmsDetached(data, signer, new Date());
    const b = await signCmsDetached(Buffer.from("other"), signer, new Date());
    const tokenB = decodeCmsDetached(b).timestamp!;
    const forged = swapToken(a, tokenB);
    expect(await codeOf(verifyCmsDetached(forged, data, trust))).toBe("TIMESTAMP_INVALID");
    await expect(opensslTsVerify(tokenB, decodeCmsDetached(a).signatureValue)).rejects.toThrow();
  });

  it("refuses any unsigned attribute other than one signature time-stamp", async () => {
    const { trust } = await devPki();
    const p7s = await signCmsDetached(data, signer, new Date());
    const info = pkijs.ContentInfo.fromBER(new Uint8Array(p7s).buffer);
    const sd = new pkijs.SignedData({ schema: info.content });
    const si = sd.signerInfos[0]!;
    si.unsignedAttrs!.attributes.push(
      new pkijs.Attribute({ type: "1.2.3.4", values: [new asn1js.Utf8String({ value: "x" })] }),
    );
    const bytes = new Uint8Array(
      new pkijs.ContentInfo({ contentType: info.contentType, content: sd.toSchema(true) })
        .toSchema()
        .toBER(false),
    );
    expect(await codeOf(verifyCmsDetached(bytes, data, trust))).toBe("SIGNATURE_MALFORMED");
  });
});

/** The same CMS with its signature time-stamp token replaced. */
function swapToken(p7s: Uint8Array, token: Uint8Array): Uint8Array {
  const info = pkijs.ContentInfo.fromBER(new Uint8Array(p7s).buffer);
  const sd = new pkijs.SignedData({ schema: info.content });
  const attr = sd.signerInfos[0]!.unsignedAttrs!.attributes[0]!;
  attr.values = [asn1js.fromBER(new Uint8Array(token).buffer).result];
  return new Uint8Array(
    new pkijs.ContentInfo({ contentType: info.contentType, content: sd.toSchema(true) })
      .toSchema()
      .toBER(false),
  );
}

// Event entries: a checkpoint covers entries of any kind, and these need no seal object.
const rec = (i: number) => ({
  kind: "event" as const,
  object: `sha256:${sha256hex(Buffer.from(`event ${i}`))}` as Digest,
});

describe("a time-stamped checkpoint", () => {
  it("stores a token over its signature that openssl ts and sealgate accept; a token over other bytes is refused", async () => {
    const { trust } = await devPki();
    const l = await FileLedger.open(await mkdtemp(join(tmpdir(), "sealgate-ledger-tst-")));
    try {
      await l.append(rec(0));
      const first = await l.checkpoint(signer);
      await l.append(rec(1));
      const second = await l.checkpoint(signer);
      expect(first.tst).toBeDefined();
      const d = decodeCheckpoint(first);
      const covered = d.signatures[0]!.sig.subarray(4);
      expect(await opensslTsVerify(d.tst!, covered)).toContain("Verification: OK");
      await verifyCheckpoint(first, trust);
      const v = new Verifier(trust);
      expect((await v.verifyCheckpoint(first, {})).findings).toEqual([]);
      const swapped = { ...first, tst: second.tst! };
      expect(await codeOf(verifyCheckpoint(swapped, trust))).toBe("TIMESTAMP_INVALID");
      expect((await v.verifyCheckpoint(swapped, {})).findings).toEqual([
        expect.objectContaining({ code: "TIMESTAMP_INVALID", step: "timestamps" }),
      ]);
    } finally {
      await l.close();
    }
  });
});

describe("a required TSA that cannot be reached", () => {
  /** A loopback port that was just free and is closed again: connections to it are refused. */
  async function deadUrl() {
    const srv = createServer();
    await new Promise<void>((r) => srv.listen(0, "127.0.0.1", r));
    const port = (srv.address() as { port: number }).port;
    await new Promise((r) => srv.close(r));
    return `http://127.0.0.1:${port}/tsa`;
  }

  it("stops the seal with TSA_FAILED naming the URL, and no checkpoint is written", async () => {
    const url = await deadUrl();
    const down = httpTimestamper({ url, required: true });
    const failing = withTimestamper(plain, down);
    try {
      const err = (await signCmsDetached(data, failing, new Date()).catch(
        (e: unknown) => e,
      )) as SealgateError;
      expect(err.code).toBe("TSA_FAILED");
      expect(err.message).toContain(`time-stamp authority ${url} failed`);
      // Credentials never go in the URL; the refusal does not echo them.
      const withCreds = url.replace("http://", "http://user:s3cret@");
      expect(() => httpTimestamper({ url: withCreds, required: true })).toThrow(/credentials/);
      expect(() => httpTimestamper({ url: withCreds, required: true })).not.toThrow(/s3cret/);
      const dir = await mkdtemp(join(tmpdir(), "sealgate-ledger-down-"));
      const l = await FileLedger.open(dir);
      try {
        await l.append(rec(0));
        expect(await codeOf(l.checkpoint(failing))).toBe("TSA_FAILED");
        expect(await readFile(join(dir, "checkpoints.log"), "utf8").catch(() => "")).toBe("");
      } finally {
        await l.close();
      }
    } finally {
      await down.close();
    }
  });

  it("when not required, seals without a time-stamp and warns", async () => {
    const warnings: string[] = [];
    const down = httpTimestamper(
      { url: await deadUrl(), required: false },
      { warn: (m) => warnings.push(m) },
    );
    try {
      const p7s = await signCmsDetached(data, withTimestamper(plain, down), new Date());
      expect(decodeCmsDetached(p7s).timestamp).toBeUndefined();
      expect(warnings).toEqual([expect.stringContaining("sealing without a time-stamp")]);
    } finally {
      await down.close();
    }
  });
});
