/*
 * The shell vocabulary of VERIFY.md: the few functions its first block defines and the check
 * idioms every later block uses. Only a POSIX shell, openssl, sha256sum and GNU coreutils
 * (base64, basenc, od, tr, cut, head, tail, wc, cat, mkdir) are called, so an auditor needs
 * nothing sealgate ships. Every decode is re-encoded and compared with its input, so text that
 * decodes to the same bytes in two spellings (padding, stray bits) never passes unnoticed.
 */

/** The tools VERIFY.md names; its test runs with a PATH holding only these. */
export const VERIFY_MD_TOOLS = [
  "openssl",
  "sha256sum",
  "base64",
  "basenc",
  "od",
  "tr",
  "cut",
  "head",
  "tail",
  "wc",
  "cat",
  "mkdir",
] as const;

/** The first block: shell functions the later blocks call (paste it first, in the same terminal). */
export const TOOLS_BLOCK = `mkdir -p work
# b64u TEXT OUT: base64url TEXT (no padding) to bytes in OUT; the bytes must re-encode to TEXT
b64u() {
  case $(( \${#1} % 4 )) in 0) b64u_=$1 ;; 2) b64u_="$1==" ;; 3) b64u_="$1=" ;; *) echo "FAILED: not base64url: $1"; return 1 ;; esac
  printf '%s' "$b64u_" | basenc --base64url -d > "$2" &&
  [ "$(basenc --base64url -w 0 "$2" | tr -d =)" = "$1" ] || { echo "FAILED: base64url $1"; return 1; }
}
# b64 TEXT OUT: base64 TEXT (padded) to bytes in OUT; the bytes must re-encode to TEXT
b64() {
  printf '%s' "$1" | base64 -d > "$2" &&
  [ "$(base64 -w 0 "$2")" = "$1" ] || { echo "FAILED: base64 $1"; return 1; }
}
# hex2bin: lower-case hex on stdin to bytes; bin2hex: bytes on stdin to lower-case hex
hex2bin() { tr a-f A-F | basenc --base16 -d; }
bin2hex() { od -An -v -tx1 | tr -d ' \\n'; }
# rs2der IN OUT: a JOSE ECDSA signature (r || s, two equal halves) to the ASN.1 DER form
# OpenSSL verifies: SEQUENCE { INTEGER r, INTEGER s }. openssl writes each INTEGER in its
# shortest form, adding a 0x00 byte when the top bit is set and dropping leading zero bytes.
rs2der() {
  rs_n=$(( $(wc -c < "$1") / 2 ))
  rs_r=$(head -c "$rs_n" "$1" | bin2hex)
  rs_s=$(tail -c "$rs_n" "$1" | bin2hex)
  printf 'asn1=SEQUENCE:sig\\n[sig]\\nr=INTEGER:0x%s\\ns=INTEGER:0x%s\\n' "$rs_r" "$rs_s" > "$2.cnf" &&
  openssl asn1parse -genconf "$2.cnf" -noout -out "$2"
}
# same A B: the two files hold the same bytes
same() { [ "$(sha256sum < "$1")" = "$(sha256sum < "$2")" ]; }
# jws FILE W: a compact JWS (header.payload.signature, each base64url) taken apart into
# W-header.json, W-payload.json, W-signature.bin and the signed text W-input.txt. The three
# parts must make up FILE exactly. The header must be exactly
# {"alg":"…","typ":"…","kid":"…","x5c":["…",…]}: its certificates (base64 DER, the signer first)
# go to W-signer.der, W-signer.pem (with its key in W-key.pem) and W-chain.pem, and kid must be
# the base64url SHA-256 of the signer's certificate.
jws() {
  jws_h=$(cut -d . -f 1 "$1"); jws_p=$(cut -d . -f 2 "$1"); jws_s=$(cut -d . -f 3 "$1")
  printf '%s.%s.%s' "$jws_h" "$jws_p" "$jws_s" > "$2.jws"
  same "$1" "$2.jws" || { echo "FAILED: $1 is not one compact JWS"; return 1; }
  b64u "$jws_h" "$2-header.json" && b64u "$jws_p" "$2-payload.json" && b64u "$jws_s" "$2-signature.bin" ||
    return 1
  printf '%s.%s' "$jws_h" "$jws_p" > "$2-input.txt"
  f() { cut -s -d '"' -f "$1" "$2-header.json"; }
  jws_i=16; jws_x5c=""; : > "$2-chain.pem"
  while jws_c=$(f $jws_i "$2"); [ -n "$jws_c" ] && [ $jws_i -le 36 ]; do
    b64 "$jws_c" "$2-cert.der" && openssl x509 -inform DER -in "$2-cert.der" >> "$2-chain.pem" || return 1
    [ $jws_i -eq 16 ] && cat "$2-cert.der" > "$2-signer.der"
    jws_x5c="$jws_x5c\${jws_x5c:+,}\\"$jws_c\\""; jws_i=$((jws_i + 2))
  done
  printf '{"alg":"%s","typ":"%s","kid":"%s","x5c":[%s]}' "$(f 4 "$2")" "$(f 8 "$2")" "$(f 12 "$2")" "$jws_x5c" \\
    > "$2-header.expected"
  same "$2-header.json" "$2-header.expected" || { echo "FAILED: $1: the header is not alg, typ, kid, x5c"; return 1; }
  [ "$(openssl dgst -sha256 -binary "$2-signer.der" | basenc --base64url -w 0 | tr -d =)" = "$(f 12 "$2")" ] ||
    { echo "FAILED: $1: kid is not the signer certificate's SHA-256"; return 1; }
  openssl x509 -inform DER -in "$2-signer.der" -out "$2-signer.pem" &&
  openssl x509 -in "$2-signer.pem" -pubkey -noout > "$2-key.pem"
}`;

/** `cond` as a check that prints OK or FAILED (and then fails, stopping a script run with -e). */
export const check = (cond: string, ok: string) =>
  `${cond} && echo "OK: ${ok}" || { echo "FAILED: ${ok}"; false; }`;

/** Compares two certificates (the first of each PEM file) by SHA-256 fingerprint. */
export const sameCert = (a: string, b: string, ok: string) =>
  check(
    `[ "$(openssl x509 -in ${a} -noout -fingerprint -sha256)" = "$(openssl x509 -in ${b} -noout -fingerprint -sha256)" ]`,
    ok,
  );

/** A shell word that is exactly `s` (single quotes; a quote inside is closed, escaped, reopened). */
export const quote = (s: string) => `'${s.replaceAll("'", `'\\''`)}'`;

export const hex = (d: string) => d.slice("sha256:".length);

/** Whole Unix seconds, rounded down (OpenSSL's -attime). */
export const epoch = (iso: string | Date) =>
  Math.floor((typeof iso === "string" ? Date.parse(iso) : iso.getTime()) / 1000);

/** The fingerprint as `openssl x509 -fingerprint -sha256` prints it. */
export const opensslFingerprint = (hexFp: string) =>
  `sha256 Fingerprint=${hexFp.toUpperCase().match(/../g)!.join(":")}`;
