/*
 * The few DER encodings the CMS signer writes (X.690): tag, definite length, contents. The
 * structures signed are fixed, so they are written as bytes rather than built as an ASN.1
 * object tree and serialised (which cost 15% of a seal); the verifier still parses with pkijs.
 */

/** One DER value: a one-byte tag, the length in its shortest form, the contents. */
export function tlv(tag: number, ...contents: Uint8Array[]): Buffer {
  const body = Buffer.concat(contents);
  const n = body.length;
  const length: number[] = [];
  for (let rest = n; rest > 0; rest = Math.floor(rest / 256)) length.unshift(rest % 256);
  const head = n < 0x80 ? [tag, n] : [tag, 0x80 | length.length, ...length];
  return Buffer.concat([Buffer.from(head), body]);
}

export const sequence = (...contents: Uint8Array[]) => tlv(0x30, ...contents);
/** SET OF: DER orders the elements by their encodings. */
export const setOf = (...elements: Buffer[]) => tlv(0x31, ...[...elements].sort(Buffer.compare));
export const octetString = (bytes: Uint8Array) => tlv(0x04, bytes);
/** [n] EXPLICIT, or [n] IMPLICIT of a constructed type given its contents. */
export const contextTag = (n: number, ...contents: Uint8Array[]) => tlv(0xa0 | n, ...contents);

/** A small non-negative INTEGER (versions). */
export const smallInteger = (n: number) => tlv(0x02, Buffer.from([n]));

export function objectIdentifier(dotted: string): Buffer {
  const [a, b, ...rest] = dotted.split(".").map(Number) as [number, number, ...number[]];
  const bytes = [40 * a + b];
  for (const arc of rest) {
    const base128 = [arc % 128];
    for (let v = Math.floor(arc / 128); v > 0; v = Math.floor(v / 128)) base128.unshift(0x80 | (v % 128));
    bytes.push(...base128);
  }
  return tlv(0x06, Buffer.from(bytes));
}

/** Contents of a value (after its tag and length). */
export function contentsOf(der: Uint8Array): Buffer {
  const b = Buffer.from(der.buffer, der.byteOffset, der.byteLength);
  const first = b[1]!;
  return b.subarray(first < 0x80 ? 2 : 2 + (first & 0x7f));
}

/**
 * A time as RFC 5652 section 11.3 wants it: UTCTime (YYMMDDHHMMSSZ) from 1950 to 2049,
 * GeneralizedTime (YYYYMMDDHHMMSSZ) otherwise; whole seconds, UTC.
 */
export function time(at: Date): Buffer {
  const iso = at.toISOString(); // YYYY-MM-DDTHH:MM:SS.sssZ
  const digits = `${iso.slice(0, 4)}${iso.slice(5, 7)}${iso.slice(8, 10)}${iso.slice(11, 13)}${iso.slice(14, 16)}${iso.slice(17, 19)}Z`;
  const year = at.getUTCFullYear();
  return year >= 1950 && year < 2050
    ? tlv(0x17, Buffer.from(digits.slice(2), "latin1"))
    : tlv(0x18, Buffer.from(digits, "latin1"));
}
