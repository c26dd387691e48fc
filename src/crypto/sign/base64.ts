/** base64url without padding (RFC 7515 section 2), strict on input. */
export const b64u = (b: Uint8Array | string) => Buffer.from(b).toString("base64url");

/*
 * Decoding accepts only the one encoding of each byte string. The last character of a group
 * that ends early carries bits no byte uses, and decoders ignore them: without this check a
 * signature or certificate could be written several ways and each would verify, so a changed
 * byte in a signed file would go unnoticed (RFC 4648 section 3.5).
 */
export function fromB64u(s: string, what: string): Buffer {
  const bytes = Buffer.from(s, "base64url");
  if (!/^[A-Za-z0-9_-]*$/.test(s) || bytes.toString("base64url") !== s)
    throw new Error(`${what} is not canonical base64url`);
  return bytes;
}

/** Standard base64 with padding (x5c uses it, not base64url: RFC 7515 4.1.6). */
export function fromB64(s: string, what: string): Buffer {
  const bytes = Buffer.from(s, "base64");
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(s) || bytes.toString("base64") !== s)
    throw new Error(`${what} is not canonical base64`);
  return bytes;
}
