import { sequence, tlv } from "./der.js";

/** IEEE P1363 r||s (what Signers return) to the ASN.1 DER Ecdsa-Sig-Value CMS and signed notes carry. */
export function p1363ToDer(sig: Uint8Array): Buffer {
  const half = sig.length / 2;
  // Each INTEGER minimal: leading zero bytes dropped, one 0x00 added back if the top bit is set.
  const int = (b: Uint8Array) => {
    let i = 0;
    while (i < b.length - 1 && b[i] === 0) i++;
    const t = Buffer.from(b.subarray(i));
    return tlv(0x02, t[0]! & 0x80 ? Buffer.concat([Buffer.from([0]), t]) : t);
  };
  return sequence(int(sig.subarray(0, half)), int(sig.subarray(half)));
}
