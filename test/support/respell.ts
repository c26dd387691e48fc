/**
 * The same bytes written another way: the last character's unused low bits set, which lenient
 * decoders ignore (RFC 4648 section 3.5). For tests that a verifier accepts only one spelling.
 */
export function respell(encoded: string, alphabet: "base64" | "base64url"): string {
  const chars = `ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789${alphabet === "base64" ? "+/" : "-_"}`;
  const data = encoded.replace(/=+$/, "");
  if ((data.length * 6) % 8 === 0) throw new Error(`${encoded} has no unused bits to set`);
  const last = chars.indexOf(data.at(-1)!);
  return `${data.slice(0, -1)}${chars[last ^ 1]}${encoded.slice(data.length)}`;
}
