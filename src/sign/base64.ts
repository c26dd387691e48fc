/** base64url without padding (RFC 7515 section 2), strict on input. */
export const b64u = (b: Uint8Array | string) => Buffer.from(b).toString("base64url");

export function fromB64u(s: string, what: string): Buffer {
  if (!/^[A-Za-z0-9_-]*$/.test(s)) throw new Error(`${what} is not base64url`);
  return Buffer.from(s, "base64url");
}

/** Standard base64 (x5c uses it, not base64url: RFC 7515 4.1.6). */
export function fromB64(s: string, what: string): Buffer {
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(s) || s.length % 4 !== 0)
    throw new Error(`${what} is not standard base64`);
  return Buffer.from(s, "base64");
}
