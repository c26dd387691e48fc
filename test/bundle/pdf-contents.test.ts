import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { SealgateError } from "../../src/core/errors.js";
import { cmsFromContents } from "../../src/crypto/sign/pdf-signature.js";

// Found by the bundle tests: about 1 PDF seal in 256 ends in a 0x00 byte, which stripping
// trailing zeros cut off, so a valid PDF failed to verify.
describe("the CMS inside a PDF's zero-padded /Contents", () => {
  const der = (body: Buffer) =>
    Buffer.concat([
      Buffer.from(
        body.length < 128 ? [0x30, body.length] : [0x30, 0x82, body.length >> 8, body.length & 255],
      ),
      body,
    ]);

  it("is exactly the DER value, also when it ends in zero bytes", () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 600 }), fc.nat(64), (body, pad) => {
        const value = der(Buffer.concat([Buffer.from(body), Buffer.from([0, 0])]));
        expect(cmsFromContents(Buffer.concat([value, Buffer.alloc(pad)])).equals(value)).toBe(true);
      }),
    );
  });

  it("refuses anything but zeros after the value, and a length past the end", () => {
    const value = der(Buffer.from([1, 2, 3]));
    expect(() => cmsFromContents(Buffer.concat([value, Buffer.from([0, 7])]))).toThrow(SealgateError);
    expect(() => cmsFromContents(Buffer.from([0x30, 0x05, 1]))).toThrow(SealgateError);
    expect(() => cmsFromContents(Buffer.from([0x04, 0x01, 1]))).toThrow(SealgateError);
  });
});
