/** IEEE P1363 r||s (what Signers return) to the ASN.1 DER Ecdsa-Sig-Value CMS and signed notes carry. */
export function p1363ToDer(sig: Uint8Array): Buffer {
  const half = sig.length / 2;
  const int = (b: Uint8Array) => {
    let i = 0;
    while (i < b.length - 1 && b[i] === 0) i++;
    const t = Buffer.from(b.subarray(i));
    const v = t[0]! & 0x80 ? Buffer.concat([Buffer.from([0]), t]) : t;
    return Buffer.concat([Buffer.from([0x02, v.length]), v]);
  };
  const body = Buffer.concat([int(sig.subarray(0, half)), int(sig.subarray(half))]);
  // P-256 and P-384 bodies stay under 256 bytes: short or one-byte long form.
  return Buffer.concat([
    Buffer.from(body.length < 128 ? [0x30, body.length] : [0x30, 0x81, body.length]),
    body,
  ]);
}
