import { opensslCmsVerifyCommand } from "../crypto/sign/cms.js";
import type { BundleFacts, CycleFacts } from "./facts.js";
import {
  CHECKPOINT_CHAIN,
  CHECKPOINT_NOTE,
  CHECKPOINT_TST,
  cycleFile,
  MANIFEST,
  objectPath,
  SEALING_CHAIN,
  TSA_CHAIN,
} from "./layout.js";
import { approvalsSection } from "./verify-md-approvals.js";
import { eventsSection } from "./verify-md-events.js";
import { check, epoch, hex, quote, sameCert, TOOLS_BLOCK, VERIFY_MD_TOOLS } from "./verify-md-shell.js";

/*
 * VERIFY.md: the bundle's own instructions for checking it by hand with OpenSSL, sha256sum and
 * GNU coreutils in a POSIX shell. Every `sh` block is meant to be pasted, in order, into one
 * terminal in the unzipped folder (the first defines helpers the others call); each check
 * prints OK or FAILED. A test runs exactly these blocks with nothing else on the PATH.
 */

/** `openssl ts -verify` of a token over the bytes it time-stamps, as of its own genTime. */
function tsVerify(b: BundleFacts, token: string, data: string, genTime: string): string {
  const untrusted = b.tsaChain ? ` -untrusted ${TSA_CHAIN}` : "";
  return `openssl ts -reply -token_in -in ${token} -token_out -text
openssl ts -verify -token_in -in ${token} -data ${data} -CAfile org-root.pem${untrusted} -attime ${epoch(genTime)}`;
}

/**
 * Shell that writes the checkpoint's expected 4-byte key id (FORMAT.md section 10): for ECDSA,
 * C2SP signed-note type 0x02, SHA-256 of the DER SubjectPublicKeyInfo; for RSA, sealgate's 0xff
 * type, SHA-256(origin || 0x0A || 0xFF || "sealgate-<scheme>-sha256" || SPKI).
 */
function keyIdCommand(cp: BundleFacts["checkpoint"]): string {
  const spki = "openssl pkey -pubin -in work/checkpoint-key.pem -outform DER";
  const input =
    cp.scheme === "ecdsa"
      ? spki
      : `{ printf '%s\\n\\377%s' '${cp.origin}' 'sealgate-${cp.scheme}-sha256'; ${spki}; }`;
  return `${input} | openssl dgst -sha256 -binary | head -c 4 > work/checkpoint-keyid.expected`;
}

/** The entry names the record, at the proof's index: exact members of its canonical line (FORMAT.md 8). */
function entryChecks(c: CycleFacts, e: string): string {
  const seq = c.proof.index;
  const [names, at] =
    c.entryForm === "v2"
      ? [`-f 1,2 ${e})" = '{"kind":"record","object":"${c.record}"'`, `-f 5 ${e})" = '"seq":${seq}'`]
      : [`-f 2 ${e})" = '"record":"${c.record}"'`, `-f 3 ${e})" = '"seq":${seq}}'`];
  return [
    check(`[ "$(cut -d , ${names} ]`, `the entry names cycle ${c.number}'s record`),
    check(`[ "$(cut -d , ${at} ]`, `the entry is number ${seq} of the ledger`),
  ].join("\n");
}

/**
 * RFC 9162 2.1.3.2, in shell arithmetic: each proof hash's side follows from the index and size
 * (exported for the test that runs it on trees of every shape).
 */
export function inclusionSteps(
  c: Pick<CycleFacts, "number" | "proof">,
  w: string,
  at: { entry: string; inclusion: string; what: string } = {
    entry: cycleFile(c.number, "entry.json"),
    inclusion: cycleFile(c.number, "inclusion.json"),
    what: `cycle ${c.number}'s entry`,
  },
): string {
  const { index, size, hashes } = c.proof;
  const inclusion = JSON.stringify({ hashes, index, size });
  const f = at.inclusion;
  return `printf '%s' '${inclusion}' > ${w}-inclusion.expected
${check(`same ${f} ${w}-inclusion.expected`, `the proof is for entry ${index} of a tree of ${size}`)}
${check(`[ "$(head -n 2 ${CHECKPOINT_NOTE} | tail -n 1)" = ${size} ]`, `the checkpoint signs a tree of ${size} entries`)}
# the leaf: 0x00 followed by the entry's bytes
{ printf '\\000'; cat ${at.entry}; } | openssl dgst -sha256 -binary > ${w}-node.bin
# fn: the entry's index, sn: the last index; each proof hash goes on the left when fn is odd or
# fn = sn (and then, if fn was even, both are halved until fn is odd or 0), else on the right
fn=${index}; sn=${size - 1}
for h in ${hashes.join(" ")}; do
  ${check("[ $sn -ne 0 ]", "the proof is no longer than the tree is deep")}
  printf '%s' "$h" | hex2bin > ${w}-sibling.bin
  if [ $((fn % 2)) -eq 1 ] || [ $fn -eq $sn ]; then
    { printf '\\001'; cat ${w}-sibling.bin ${w}-node.bin; } | openssl dgst -sha256 -binary > ${w}-next.bin
    while [ $((fn % 2)) -eq 0 ] && [ $fn -ne 0 ]; do fn=$((fn / 2)); sn=$((sn / 2)); done
  else
    { printf '\\001'; cat ${w}-node.bin ${w}-sibling.bin; } | openssl dgst -sha256 -binary > ${w}-next.bin
  fi
  fn=$((fn / 2)); sn=$((sn / 2)); cat ${w}-next.bin > ${w}-node.bin
done
# the result must be the root the checkpoint signs (its third line, in base64)
${check(`[ $sn -eq 0 ] && [ "$(openssl base64 -A -in ${w}-node.bin)" = "$(head -n 3 ${CHECKPOINT_NOTE} | tail -n 1)" ]`, `${at.what} is in the signed ledger`)}`;
}

function cmsTokenSection(b: BundleFacts, c: CycleFacts, w: string): string {
  const t = c.cmsToken;
  if (!t) return "";
  const p7s = cycleFile(c.number, "record.p7s");
  const slice = (r: { offset: number; length: number }, out: string) =>
    `tail -c +${r.offset + 1} ${p7s} | head -c ${r.length} > ${out}`;
  return `
**The seal's time-stamp.** The CMS seal carries an RFC 3161 time-stamp token (CAdES-T: the
signer's unsigned attribute id-smime-aa-timeStampToken) over its signature value: a
time-stamp authority your organisation trusts says the seal existed at ${t.genTime}.
\`openssl asn1parse -inform DER -in ${p7s}\` shows where each part lies: the signature value
is the contents of the last OCTET STRING before the unsigned attributes (${t.signature.length}
bytes from byte ${t.signature.offset}), the token the one value of the attribute's SET (${t.token.length}
bytes from byte ${t.token.offset}). OpenSSL checks the token, its time-stamp authority's
certificate (extended key usage Time Stamping) and chain, and that it covers exactly those
bytes. It prints the token, then \`Verification: OK\`:

\`\`\`sh
${slice(t.signature, `${w}-cms-signature.bin`)}
${slice(t.token, `${w}-cms.tst`)}
${tsVerify(b, `${w}-cms.tst`, `${w}-cms-signature.bin`, t.genTime)}
\`\`\`
`;
}

function cycleSection(b: BundleFacts, c: CycleFacts, step: number): string {
  const f = (name: Parameters<typeof cycleFile>[1]) => cycleFile(c.number, name);
  const w = `work/c${c.number}`;
  const previous = c.previous
    ? `
This cycle follows an earlier one (a rejection or a request for changes); the record's
\`cycle\` member names it. A JSON string cannot hold an unescaped \`"\`, so in the record's
canonical form the text below, which starts and ends with the member's own quotes and braces,
can only be that member itself:

\`\`\`sh
${check(`case "$(cat ${f("record.json")})" in *${quote(`,"number":${c.number},"previous":"${c.previous}"},"dataset":{`)}*) true ;; *) false ;; esac`, "the record names the earlier cycle")}
\`\`\`
`
    : "";
  return `## ${step}. Cycle ${c.number}: ${c.model} version ${c.version}, ${c.decision}, sealed ${c.sealedAt}

The record is \`${f("record.json")}\`. Its digest, the name every other piece of evidence uses
for it, is the SHA-256 of the file's exact bytes:

\`\`\`sh
printf '%s  %s\\n' '${hex(c.record)}' '${f("record.json")}' | sha256sum -c
\`\`\`
${previous}
**The organisation's seal.** OpenSSL checks the signature over the record and that the
signer's certificate chains to your root, as of the sealing time (\`-attime\`, the sealing time
in whole seconds, rounded down), so the check still works after the certificate has expired. It
prints \`Verification successful\`. OpenSSL accepts any certificate of your organisation with
the S/MIME purpose, approvers' included, so the next line checks that the signer is the
organisation's sealing certificate (section 2), by its SHA-256 fingerprint:

\`\`\`sh
${opensslCmsVerifyCommand({ p7s: f("record.p7s"), content: f("record.json"), root: "org-root.pem", signingTime: c.sealedAt, signerOut: `${w}-cms-signer.pem` })}
${sameCert(`${w}-cms-signer.pem`, SEALING_CHAIN, `cycle ${c.number} is sealed by the sealing certificate`)}
\`\`\`
${cmsTokenSection(b, c, w)}
**Every object the record names.** Each file in \`objects/\` is named by the SHA-256 of its
bytes. Each line below prints \`OK\`:

\`\`\`sh
${c.objects.map((o) => `# ${o.role}\nprintf '%s  %s\\n' '${hex(o.digest)}' '${objectPath(o.digest)}' | sha256sum -c`).join("\n")}
\`\`\`

${approvalsSection(c)}
**The ledger entry.** \`${f("entry.json")}\` is entry number ${c.proof.index} of the
append-only ledger, byte for byte. Its members are in a fixed order (FORMAT.md section 8) and
hold only hex, digits and fixed words, so each comma-separated piece below is one member, compared
whole:

\`\`\`sh
${entryChecks(c, f("entry.json"))}
\`\`\`

**The entry is in the signed ledger (inclusion proof).** The ledger is a Merkle tree: every
entry is hashed into a leaf, and pairs of hashes are hashed together, level by level, up to
one root hash, which the checkpoint signs. Recomputing the root from this entry and the
${c.proof.hashes.length} hash(es) in \`${f("inclusion.json")}\` proves the entry is the leaf at
index ${c.proof.index} of the signed tree of ${c.proof.size} entries: which side each hash goes on
is worked out from that index, so no other position can give the same root. Two one-byte
prefixes make it impossible to pass a leaf off as a pair of hashes or the reverse: a leaf is
SHA-256 of the byte 0x00 followed by the entry; a pair is SHA-256 of the byte 0x01 followed by
the left hash and the right hash.

The entry's \`prev\` member (the hash of the entry before it) cannot be checked from a bundle,
which holds no other entry; it need not be, since the proof fixes the entry's place in the
signed tree. \`sealgate verify BUNDLE.zip --log\` checks the live ledger's chain.

\`\`\`sh
${inclusionSteps(c, w)}
\`\`\`
${eventsSection(c, inclusionSteps)}`;
}

/** The checkpoint's signature, key id and chain, and its time-stamp when it has one. */
function checkpointSection(b: BundleFacts, step: number): string {
  const cp = b.checkpoint;
  const token = cp.tokenTime
    ? `
**The checkpoint's time-stamp.** \`${CHECKPOINT_TST}\` is an RFC 3161 time-stamp token over the
checkpoint's signature (the bytes after the key id): a time-stamp authority your organisation
trusts says the checkpoint was signed by ${cp.tokenTime}. \`${TSA_CHAIN}\` holds the
certificates the token carries. OpenSSL checks the token against your root, as of its own time
(if your time-stamp authority is under another root, add that root, from your own records, to
\`org-root.pem\`). It prints the token, then \`Verification: OK\`:

\`\`\`sh
${tsVerify(b, CHECKPOINT_TST, "work/checkpoint.sig", cp.tokenTime)}
\`\`\`
`
    : "";
  return `## ${step}. The checkpoint's signature

\`${CHECKPOINT_NOTE}\` is the ledger's signed checkpoint: the log's name (${cp.origin}), its
size (${cp.size} entries), its root hash, and the time it was signed (${cp.time}), followed by a
signature line. The signed text is the first four lines; the signature is the last line's
third field, in base64, after a 4-byte key id. The key is ${cp.keyType}, from the first
certificate of \`${CHECKPOINT_CHAIN}\`, which must be the sealing certificate. The key id is
${cp.scheme === "ecdsa" ? "the first 4 bytes of the SHA-256 of the key's DER SubjectPublicKeyInfo (C2SP signed-note, signature type 0x02)" : `the first 4 bytes of the SHA-256 of the log's name, a newline, the byte 0xFF, \`sealgate-${cp.scheme}-sha256\` and the key's DER SubjectPublicKeyInfo`}.

\`\`\`sh
${sameCert(CHECKPOINT_CHAIN, SEALING_CHAIN, "the checkpoint is signed by the sealing certificate")}
head -n 4 ${CHECKPOINT_NOTE} > work/checkpoint.txt
b64 "$(tail -n 1 ${CHECKPOINT_NOTE} | cut -d ' ' -f 3)" work/checkpoint.blob
head -c 4 work/checkpoint.blob > work/checkpoint-keyid.bin
tail -c +5 work/checkpoint.blob > work/checkpoint.sig
openssl x509 -in ${CHECKPOINT_CHAIN} -pubkey -noout > work/checkpoint-key.pem
${keyIdCommand(cp)}
${check(`same work/checkpoint-keyid.bin work/checkpoint-keyid.expected`, "the checkpoint's key id is the signing key's")}
openssl dgst ${cp.signature.join(" ")} -verify work/checkpoint-key.pem -signature work/checkpoint.sig work/checkpoint.txt
openssl verify -attime ${epoch(cp.tokenTime ?? cp.time)} -purpose smimesign -CAfile org-root.pem -untrusted ${CHECKPOINT_CHAIN} ${CHECKPOINT_CHAIN}
\`\`\`
${token}`;
}

export function renderVerifyMd(b: BundleFacts): string {
  const event = b.cycles[0]!;
  const n = b.cycles.length;
  return `# Checking this evidence bundle by hand

This bundle is the sealed evidence of one model promotion decision: **${event.model} version
${event.version}, ${event.decision}**, record \`${b.event}\`. It holds the sealed record, its
signatures, every file the record refers to, the approvers' signatures of every cycle, and a
proof that the record is in the organisation's append-only ledger.

\`sealgate verify BUNDLE.zip --ca org-root.pem\` checks all of it at once. The steps below check
the core of it with standard tools only, so they still work if sealgate is gone: a POSIX shell
(\`sh\`, whose built-ins \`printf\`, \`echo\`, \`[\` and \`$(( ))\` arithmetic they use), \`openssl\`
(3.0 or later), \`sha256sum\` and GNU coreutils (${VERIFY_MD_TOOLS.filter(
    (t) => t !== "openssl" && t !== "sha256sum",
  )
    .map((t) => `\`${t}\``)
    .join(", ")}). Open a terminal in the unzipped folder and paste each grey block, in order,
into that one terminal: the first defines helpers the others use. Every check prints \`OK\` (or
OpenSSL's \`Verification successful\`, \`Verified OK\`, \`Verification: OK\`); anything else means
the evidence does not verify. Each command only reads files in this folder and writes under
\`work/\`. This file is not signed: read each command before you run it.

## 1. Your organisation's root certificate, and the helpers

Copy your organisation's root CA certificate into this folder as \`org-root.pem\`. Take it from
your own records, never from this bundle: a bundle could carry a root of an attacker's making.
Then paste this block; it defines the helpers the later blocks call.

\`\`\`sh
${TOOLS_BLOCK}
\`\`\`

## 2. Every file is intact, and the sealing certificate

\`${MANIFEST}\` lists every file of the bundle with its SHA-256. Each line must print \`OK\`:

\`\`\`sh
sha256sum -c ${MANIFEST}
\`\`\`

The first certificate in \`${SEALING_CHAIN}\` is the one that sealed every record and signed the
ledger's checkpoint; the steps below compare each signer with it. Check that it is a sealing
certificate (extended key usage Code Signing or Document Signing, 1.3.6.1.5.5.7.3.36, which
approvers' certificates never carry), and compare the fingerprint it prints with the one your
organisation publishes for its sealing certificate:

\`\`\`sh
${check(`case "$(openssl x509 -in ${SEALING_CHAIN} -noout -ext extendedKeyUsage)" in *"Code Signing"*|*"1.3.6.1.5.5.7.3.36"*|*"Document Signing"*) true ;; *) false ;; esac`, "the sealing certificate has a sealing extended key usage")}
openssl x509 -in ${SEALING_CHAIN} -noout -subject -fingerprint -sha256
\`\`\`

${b.cycles.map((c, i) => cycleSection(b, c, i + 3)).join("\n")}
${checkpointSection(b, n + 3)}
## ${n + 4}. What sealgate checks beyond these steps

- The JWS form of each record's seal, and that the sealing certificate in \`${SEALING_CHAIN}\`
  made every seal of the record (JWS, \`.p7s\`, PDF).
- The signed PDF (\`record.pdf\`): also checkable in a PDF reader, or with \`pdfsig\`; it embeds
  the record and the approvals.
- That the review package names the record's fields, that the approvers were authorised for
  their roles by the sealed governance policy, in its order, with separation of duties, and
  that no certificate was revoked (your CRLs, \`--crl\`).
- That the checkpoint is consistent with the live ledger's newer checkpoints, and the live
  ledger's \`prev\` chain
  (\`sealgate verify BUNDLE.zip --ca org-root.pem --log LEDGER-DIR-OR-DAEMON-URL\`).
`;
}
