import { execFile } from "node:child_process";
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import fc from "fast-check";
import * as pkijs from "pkijs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { SealgateError } from "../../../src/core/errors.js";
import { HttpClient } from "../../../src/core/http/client.js";
import { requestTimestamp, timestampRequest, verifyTimestamp } from "../../../src/crypto/sign/timestamp.js";
import { FaultProxy } from "../../support/fault-proxy.js";
import { devPki } from "../../support/pki.js";
import { startTsa } from "../../support/tsa.js";

const run = promisify(execFile);
const signature = Buffer.from("the bytes of a signature that needs an independent time");
const codeOf = (p: Promise<unknown>) =>
  p.then(
    () => "valid",
    (e: SealgateError) => e.code,
  );

describe("RFC 3161 time-stamps from a real openssl TSA", () => {
  let tsa: Awaited<ReturnType<typeof startTsa>>;
  let http: HttpClient;
  beforeAll(async () => {
    const { pki } = await devPki();
    tsa = await startTsa(pki);
    http = new HttpClient({ baseUrl: tsa.url, backoff: { retries: 0 } });
  });
  afterAll(async () => {
    await http.close();
    await tsa.stop();
  });

  it("refuses a token with any single byte changed, signed or not (length, content type, versions)", async () => {
    const { trust } = await devPki();
    const token = await requestTimestamp(http, "/", signature);
    // Every offset once, deterministically: the lowest bit turns NULL into an empty OCTET STRING,
    // a PrintableString into a NumericString, a BIT STRING's unused-bits count to 1 and an ECDSA
    // signature's length byte off by one, none of which the TSA's signature covers.
    const accepted: number[] = [];
    for (let at = 0; at < token.length; at++) {
      const bad = Buffer.from(token);
      bad[at]! ^= 1;
      if ((await codeOf(verifyTimestamp(bad, signature, trust))) === "valid") accepted.push(at);
    }
    expect(accepted).toEqual([]);
    await fc.assert(
      fc.asyncProperty(fc.nat({ max: token.length - 1 }), fc.integer({ min: 1, max: 255 }), async (at, x) => {
        const bad = Buffer.from(token);
        bad[at]! ^= x;
        expect(await codeOf(verifyTimestamp(bad, signature, trust))).not.toBe("valid");
      }),
      { numRuns: 200 },
    );
  });

  it("writes every request's nonce as a positive minimal DER INTEGER, the only form OpenSSL's TSA accepts", () => {
    // 1 in 128 random nonces once began with a zero byte, and the TSA answered "Bad request format".
    for (let i = 0; i < 5000; i++) {
      const req = pkijs.TimeStampReq.fromBER(new Uint8Array(timestampRequest(signature).der).buffer);
      const nonce = Buffer.from(req.nonce!.valueBlock.valueHexView);
      expect(nonce.length).toBe(8);
      expect(nonce[0]).toBeGreaterThan(0);
      expect(nonce[0]).toBeLessThan(0x80);
    }
  });

  it("gets a token that sealgate and openssl ts -verify both accept", async () => {
    const { pki, trust } = await devPki();
    const before = Date.now();
    const token = await requestTimestamp(http, "/", signature);
    const v = await verifyTimestamp(token, signature, trust);
    expect(v.genTime.getTime()).toBeGreaterThanOrEqual(Math.floor(before / 1000) * 1000);
    expect(v.tsa.subject).toContain("Sealgate Dev TSA");
    const dir = await mkdtemp(join(tmpdir(), "sealgate-ts-"));
    await writeFile(join(dir, "token.der"), token);
    await writeFile(join(dir, "data"), signature);
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
    expect(stdout).toContain("Verification: OK");
  });

  it("refuses a token over other bytes, a damaged token, and a TSA from another root", async () => {
    const { trust } = await devPki();
    const token = await requestTimestamp(http, "/", signature);
    expect(await codeOf(verifyTimestamp(token, Buffer.from("other"), trust))).toBe("TIMESTAMP_INVALID");
    const damaged = Buffer.from(token);
    damaged[damaged.length - 10]! ^= 0xff;
    expect(await codeOf(verifyTimestamp(damaged, signature, trust))).toMatch(
      /^(TIMESTAMP_INVALID|SIGNATURE_|CERT_)/,
    );
    expect(await codeOf(verifyTimestamp(Buffer.from("garbage"), signature, trust))).toBe("TIMESTAMP_INVALID");
    const other = await devPki("ec-p256", "ts-other");
    expect(await codeOf(verifyTimestamp(token, signature, other.trust))).toBe("CERT_UNTRUSTED_ROOT");
  });

  it("refuses a reply that does not carry the request's nonce (a replayed reply)", async () => {
    const first = new FaultProxy(tsa.url);
    await first.start();
    try {
      const client = new HttpClient({ baseUrl: first.url, backoff: { retries: 0 } });
      const token = await requestTimestamp(client, "/", signature);
      // Replay another request's reply: a genuine TSA signature, someone else's nonce.
      const res = await fetch(tsa.url, {
        method: "POST",
        body: Buffer.from(timestampRequest(signature).der),
      });
      const replay = Buffer.from(await res.arrayBuffer());
      first.inject({ rewrite: () => replay });
      expect(await codeOf(requestTimestamp(client, "/", signature))).toBe("TSA_FAILED");
      expect(token.length).toBeGreaterThan(100);
      await client.close();
    } finally {
      await first.stop();
    }
  });
});
