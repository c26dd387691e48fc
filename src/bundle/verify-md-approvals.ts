import type { CycleFacts } from "./facts.js";
import { objectPath } from "./layout.js";
import type { ApprovalFacts } from "./verify-md-facts.js";
import { check, epoch, quote } from "./verify-md-shell.js";

/*
 * VERIFY.md's approval steps: each approver's e-signature (a compact JWS, FORMAT.md 3.1) taken
 * apart and checked with OpenSSL alone, by the helpers of VERIFY.md's first block (jws, b64u,
 * rs2der): the exact words signed, the signature, the certificate and its chain.
 */

/** `openssl dgst` for a JWS alg (RFC 7518 3.1); ECDSA signatures are turned into DER first. */
export function signatureCheck(a: { alg: string; n: number | string }, w: string): string {
  const bits = a.alg.slice(2);
  const verify = (opts: string, sig: string) =>
    `openssl dgst -sha${bits}${opts} -verify ${w}-key.pem -signature ${sig} ${w}-input.txt`;
  if (a.alg.startsWith("ES")) {
    const size = bits === "256" ? 64 : 96;
    return [
      `# ${a.alg}: the signature is r || s, ${size / 2} bytes each; OpenSSL wants DER`,
      check(
        `[ "$(wc -c < ${w}-signature.bin)" -eq ${size} ]`,
        `${typeof a.n === "number" ? `approval ${a.n}` : a.n}'s signature is ${size} bytes`,
      ),
      `rs2der ${w}-signature.bin ${w}-signature.der`,
      verify("", `${w}-signature.der`),
    ].join("\n");
  }
  const pss = a.alg.startsWith("PS")
    ? ` -sigopt rsa_padding_mode:pss -sigopt rsa_pss_saltlen:${Number(bits) / 8}`
    : "";
  return `# ${a.alg}: RSA${pss ? "SSA-PSS, salt as long as the hash" : " PKCS#1 v1.5"}\n${verify(pss, `${w}-signature.bin`)}`;
}

function approvalBlock(c: CycleFacts, a: ApprovalFacts): string {
  const w = `work/c${c.number}-approval${a.n}`;
  const typ = "vnd.sealgate.approval+jws";
  return `### Approval ${a.n}: ${a.role}, ${a.decision}, by ${a.email}

\`${objectPath(a.assertion)}\` is the approver's signature. The payload must be exactly the
text below: the record's model, version and review package, this approval's role, decision
and time as the record lists them, the approver's own comment and conditions, and, when the
approver signed it, the digest of the review PDF this bundle carries (the document they were
shown, whose bytes the checksum step covers).

\`\`\`sh
jws ${objectPath(a.assertion)} ${w}
${check(`[ "$(cut -s -d '"' -f 4,8 ${w}-header.json)" = '${a.alg}"${typ}' ]`, `approval ${a.n} is a ${a.alg} ${typ}`)}
printf '%s' ${quote(a.payload)} > ${w}-payload.expected
${check(`same ${w}-payload.json ${w}-payload.expected`, `approval ${a.n} signs exactly the record's ${a.role} ${a.decision}`)}
${check(`[ "$(sha256sum < ${w}-signer.der | cut -d ' ' -f 1)" = '${a.fingerprint}' ]`, `approval ${a.n} is signed with the certificate the record names`)}
openssl x509 -in ${w}-signer.pem -noout -subject -ext subjectAltName
${check(`case "$(openssl x509 -in ${w}-signer.pem -noout -ext extendedKeyUsage)" in *"Code Signing"*|*"1.3.6.1.5.5.7.3.36"*|*"Document Signing"*) false ;; *) true ;; esac`, `approval ${a.n}'s certificate is not a sealing certificate`)}
${signatureCheck(a, w)}
openssl verify -attime ${epoch(a.signedAt)} -purpose ${a.purpose} -CAfile org-root.pem -untrusted ${w}-chain.pem ${w}-signer.pem
\`\`\`
`;
}

export function approvalsSection(c: CycleFacts): string {
  if (c.approvals.length === 0) return "";
  const order = c.approvals.map((a) => `${a.n}. ${a.role} (${a.decision}, signed ${a.signedAt})`);
  return `**The approvals.** Each approver signed the review package with their own certificate: a
compact JWS (FORMAT.md section 3.1), three base64url parts joined by dots. The \`jws\` helper of
the first block takes one apart (every part decoded and re-encoded to the same text), then
OpenSSL checks the signature with the key of the approver's certificate, and that certificate's
chain to your root as of the signing time (\`-attime\`, whole seconds, rounded down). It prints
\`Verified OK\` and \`OK\`.

The record lists the approvals in this order; the roles must follow the review chain the sealed
policy set for this cycle (${c.chain.join(", ")}), ${
    c.events
      ? "each appended to the ledger after the one before (the times shown are the signers' own clocks; the ledger-order step below checks the order)"
      : "each signed no earlier than the one before"
  }:

${order.join("\n")}

${c.approvals.map((a) => approvalBlock(c, a)).join("\n")}`;
}
