import { describe, expect, test } from "vitest";
import * as asn1js from "asn1js";
import * as DER from "../../../src/crypto/sign/der.js";

// The CMS signer writes its DER by hand; asn1js (what the verifier parses with) is the judge.
describe("DER writer", () => {
  test("object identifiers encode as X.690 says (RFC 5652 id-signedData)", () => {
    expect(DER.objectIdentifier("1.2.840.113549.1.7.2").toString("hex")).toBe("06092a864886f70d010702");
    expect(DER.objectIdentifier("2.16.840.1.101.3.4.2.1").toString("hex")).toBe("0609608648016503040201");
  });

  test.each([0, 1, 127, 128, 255, 256, 65_535, 65_536, 300_000])(
    "a %i-byte value takes the shortest length form and parses back whole",
    (n) => {
      const der = DER.octetString(Buffer.alloc(n, 0x5a));
      const parsed = asn1js.fromBER(new Uint8Array(der));
      expect(parsed.offset).toBe(der.length);
      expect((parsed.result as asn1js.OctetString).valueBlock.valueHexView.length).toBe(n);
      expect(Buffer.from(parsed.result.toBER(false)).equals(der)).toBe(true);
      const lengthOctets = der.length - n - 1;
      expect(lengthOctets).toBe(n < 128 ? 1 : 1 + Math.ceil(Math.log2(n + 1) / 8));
    },
  );

  test("SET OF is sorted by encoding, whatever order it is given", () => {
    const a = DER.octetString(Buffer.from([2]));
    const b = DER.smallInteger(1);
    expect(DER.setOf(a, b).equals(DER.setOf(b, a))).toBe(true);
    expect(DER.setOf(a, b).subarray(2, 5).equals(b)).toBe(true);
  });

  test("signing times: UTCTime from 1950 to 2049, GeneralizedTime outside (RFC 5652 11.3)", () => {
    const read = (d: string) => asn1js.fromBER(new Uint8Array(DER.time(new Date(d)))).result;
    const utc = read("2049-12-31T23:59:59.900Z");
    expect(utc).toBeInstanceOf(asn1js.UTCTime);
    expect((utc as asn1js.UTCTime).toDate().toISOString()).toBe("2049-12-31T23:59:59.000Z");
    const gen = read("2050-01-01T00:00:00Z");
    expect(gen).toBeInstanceOf(asn1js.GeneralizedTime);
    expect((gen as asn1js.GeneralizedTime).toDate().toISOString()).toBe("2050-01-01T00:00:00.000Z");
    expect(read("1949-06-01T12:00:00Z")).toBeInstanceOf(asn1js.GeneralizedTime);
  });

  test("contentsOf strips tag and length in either form", () => {
    for (const n of [3, 200, 70_000]) {
      const body = Buffer.alloc(n, 1);
      expect(DER.contentsOf(DER.sequence(body)).equals(body)).toBe(true);
    }
  });
});
