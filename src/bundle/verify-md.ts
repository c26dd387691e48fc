import { opensslCmsVerifyCommand } from "../crypto/sign/cms.js";
import type { BundleFacts, CycleFacts } from "./facts.js";
import {
  CHECKPOINT_CHAIN,
  CHECKPOINT_NOTE,
  cycleFile,
  MANIFEST,
  objectPath,
  SEALING_CHAIN,
} from "./layout.js";

/*
 * VERIFY.md: the bundle's own instructions for checking it by hand with OpenSSL and sha256sum
 * (plus the POSIX shell and its basic tools: printf, cat, head, tail, cut, mkdir, and xxd to
 * turn hex into bytes). Every `sh` block is meant to be pasted into a terminal in the unzipped
 * folder; each check prints OK or FAILED. A test runs exactly these blocks.
 */

/** Which side each proof hash goes on, from the entry number and tree size (RFC 9162 2.1.3.2). */
export function proofSides(index: number, size: number, count: number): ("left" | "right")[] {
  let fn = BigInt(index);
  let sn = BigInt(size - 1);
  const sides: ("left" | "right")[] = [];
  for (let i = 0; i < count; i++) {
    if (fn & 1n || fn === sn) {
      sides.push("left");
      if (!(fn & 1n)) while (!(fn & 1n) && fn !== 0n) [fn, sn] = [fn >> 1n, sn >> 1n];
    } else sides.push("right");
    [fn, sn] = [fn >> 1n, sn >> 1n];
  }
  return sides;
}

const hex = (d: string) => d.slice("sha256:".length);
const check = (cond: string, ok: string) => `${cond} && echo "OK: ${ok}" || { echo "FAILED: ${ok}"; false; }`;
const epoch = (iso: string) => Math.floor(Date.parse(iso) / 1000);
/** Compares two certificates (the first of each PEM file) by SHA-256 fingerprint. */
const sameCert = (a: string, b: string, ok: string) =>
  check(
    `[ "$(openssl x509 -in ${a} -noout -fingerprint -sha256)" = "$(openssl x509 -in ${b} -noout -fingerprint -sha256)" ]`,
    ok,
  );

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

function cycleSection(c: CycleFacts, step: number): string {
  const f = (name: Parameters<typeof cycleFile>[1]) => cycleFile(c.number, name);
  const w = `work/cycle${c.number}`;
  const sides = proofSides(c.proof.index, c.proof.size, c.proof.hashes.length);
  const proof = c.proof.hashes.map((h, i) => {
    const prev = `${w}-step${i}.bin`;
    const pair =
      sides[i] === "left"
        ? `printf '%s' '${h}' | xxd -r -p; cat ${prev};`
        : `cat ${prev}; printf '%s' '${h}' | xxd -r -p;`;
    return `# step ${i + 1}: the proof's hash ${i + 1} goes on the ${sides[i]}\n{ printf '\\001'; ${pair} } | openssl dgst -sha256 -binary > ${w}-step${i + 1}.bin`;
  });
  const last = `${w}-step${c.proof.hashes.length}.bin`;
  return `## ${step}. Cycle ${c.number}: ${c.model} version ${c.version}, ${c.decision}, sealed ${c.sealedAt}

The record is \`${f("record.json")}\`. Its digest, the name every other piece of evidence uses
for it, is the SHA-256 of the file's exact bytes:

\`\`\`sh
printf '%s  %s\\n' '${hex(c.record)}' '${f("record.json")}' | sha256sum -c
\`\`\`
${c.previous ? `\nThis cycle follows an earlier one (a rejection or a request for changes); the record names it:\n\n\`\`\`sh\ncase "$(cat ${f("record.json")})" in *'"previous":"${c.previous}"'*) echo "OK: names the earlier cycle" ;; *) echo "FAILED: earlier cycle"; false ;; esac\n\`\`\`\n` : ""}
**The organisation's seal.** OpenSSL checks the signature over the record and that the
signer's certificate chains to your root, as of the sealing time (\`-attime\`, the sealing time
in whole seconds, rounded down), so the check still works after the certificate has expired. It
prints \`Verification successful\`. OpenSSL accepts any certificate of your organisation with
the S/MIME purpose, approvers' included, so the next line checks that the signer is the
organisation's sealing certificate (section 2), by its SHA-256 fingerprint:

\`\`\`sh
mkdir -p work
${opensslCmsVerifyCommand({ p7s: f("record.p7s"), content: f("record.json"), root: "org-root.pem", signingTime: c.sealedAt, signerOut: `${w}-cms-signer.pem` })}
${sameCert(`${w}-cms-signer.pem`, SEALING_CHAIN, `cycle ${c.number} is sealed by the sealing certificate`)}
\`\`\`

**Every object the record names.** Each file in \`objects/\` is named by the SHA-256 of its
bytes. Each line below prints \`OK\`:

\`\`\`sh
${c.objects.map((o) => `# ${o.role}\nprintf '%s  %s\\n' '${hex(o.digest)}' '${objectPath(o.digest)}' | sha256sum -c`).join("\n")}
\`\`\`

**The ledger entry.** \`${f("entry.json")}\` is entry number ${c.proof.index} of the
append-only ledger, byte for byte. It names the record:

\`\`\`sh
case "$(cat ${f("entry.json")})" in ${c.entryForm === "v2" ? `'{"kind":"record","object":"${c.record}"'*` : `*'"record":"${c.record}"'*`}) echo "OK: the entry names the record" ;; *) echo "FAILED: entry"; false ;; esac
\`\`\`

**The entry is in the signed ledger (inclusion proof).** The ledger is a Merkle tree: every
entry is hashed into a leaf, and pairs of hashes are hashed together, level by level, up to
one root hash, which the checkpoint signs. Recomputing the root from this entry and the
${c.proof.hashes.length} hash(es) in \`${f("inclusion.json")}\` proves the entry is in the
signed tree of ${c.proof.size} entries. Two one-byte prefixes make it impossible to pass a
leaf off as a pair of hashes or the reverse: a leaf is SHA-256 of the byte 0x00 followed by
the entry; a pair is SHA-256 of the byte 0x01 followed by the left hash and the right hash.

\`\`\`sh
mkdir -p work
# the leaf: 0x00 followed by the entry's bytes
{ printf '\\000'; cat ${f("entry.json")}; } | openssl dgst -sha256 -binary > ${w}-step0.bin
${proof.join("\n")}
# the result must be the root signed in the checkpoint (its third line, in base64)
${check(`[ "$(openssl base64 -A -in ${last})" = "$(head -n 3 ${CHECKPOINT_NOTE} | tail -n 1)" ]`, `cycle ${c.number} is in the signed ledger`)}
\`\`\`
`;
}

export function renderVerifyMd(b: BundleFacts): string {
  const event = b.cycles[0]!;
  const cp = b.checkpoint;
  return `# Checking this evidence bundle by hand

This bundle is the sealed evidence of one model promotion decision: **${event.model} version
${event.version}, ${event.decision}**, record \`${b.event}\`. It holds the sealed record, its
signatures, every file the record refers to, the approval history of every cycle, and a proof
that the record is in the organisation's append-only ledger.

\`sealgate verify BUNDLE.zip --ca org-root.pem\` checks all of it at once. The steps below check
the core of it with standard tools only, so they still work if sealgate is gone: a POSIX
shell with \`printf\`, \`cat\`, \`head\`, \`tail\`, \`cut\`, \`mkdir\`, \`xxd\`, \`openssl\` (1.1 or 3)
and \`sha256sum\`. Open a terminal in the unzipped folder and paste each grey block. Every
check prints \`OK\` (or OpenSSL's \`Verification successful\` / \`Verified OK\`); anything else
means the evidence does not verify.

## 1. Your organisation's root certificate

Copy your organisation's root CA certificate into this folder as \`org-root.pem\`. Take it from
your own records, never from this bundle: a bundle could carry a root of an attacker's making.

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

${b.cycles.map((c, i) => cycleSection(c, i + 3)).join("\n")}
## ${b.cycles.length + 3}. The checkpoint's signature

\`${CHECKPOINT_NOTE}\` is the ledger's signed checkpoint: the log's name (${cp.origin}), its
size (${cp.size} entries), its root hash, and the time it was signed (${cp.time}), followed by a
signature line. The signed text is the first four lines; the signature is the last line's
third field, in base64, after a 4-byte key id. The key is ${cp.keyType}, from the first
certificate of \`${CHECKPOINT_CHAIN}\`, which must be the sealing certificate. The key id is
${cp.scheme === "ecdsa" ? "the first 4 bytes of the SHA-256 of the key's DER SubjectPublicKeyInfo (C2SP signed-note, signature type 0x02)" : `the first 4 bytes of the SHA-256 of the log's name, a newline, the byte 0xFF, \`sealgate-${cp.scheme}-sha256\` and the key's DER SubjectPublicKeyInfo`}.

\`\`\`sh
mkdir -p work
${sameCert(CHECKPOINT_CHAIN, SEALING_CHAIN, "the checkpoint is signed by the sealing certificate")}
head -n 4 ${CHECKPOINT_NOTE} > work/checkpoint.txt
tail -n 1 ${CHECKPOINT_NOTE} | cut -d ' ' -f 3 | openssl base64 -d -A > work/checkpoint.blob
head -c 4 work/checkpoint.blob > work/checkpoint-keyid.bin
tail -c +5 work/checkpoint.blob > work/checkpoint.sig
openssl x509 -in ${CHECKPOINT_CHAIN} -pubkey -noout > work/checkpoint-key.pem
${keyIdCommand(cp)}
${check(`[ "$(xxd -p work/checkpoint-keyid.bin)" = "$(xxd -p work/checkpoint-keyid.expected)" ]`, "the checkpoint's key id is the signing key's")}
openssl dgst ${cp.signature.join(" ")} -verify work/checkpoint-key.pem -signature work/checkpoint.sig work/checkpoint.txt
openssl verify -attime ${epoch(cp.time)} -purpose smimesign -CAfile org-root.pem -untrusted ${CHECKPOINT_CHAIN} ${CHECKPOINT_CHAIN}
\`\`\`

## ${b.cycles.length + 4}. What sealgate checks beyond these steps

- The JWS form of each record's seal, and that the sealing certificate in \`${SEALING_CHAIN}\`
  made every seal of the record (JWS, \`.p7s\`, PDF).
- The signed PDF (\`record.pdf\`): also checkable in a PDF reader, or with \`pdfsig\`; it embeds
  the record and the approvals.
- Each approver's signature (the \`signed ... by\` objects above, compact JWS), that it names
  the review package the record names, and that the approvals came in the order the sealed
  governance policy requires, by people it authorised.
- That the checkpoint is consistent with the live ledger's newer checkpoints
  (\`sealgate verify BUNDLE.zip --ca org-root.pem --log LEDGER-DIR-OR-DAEMON-URL\`).
`;
}
