import type { Checkpoint, SignedCheckpoint } from "../evidence/ledger/checkpoint.js";
import { type Finding, finding, findingOf, type Where } from "../evidence/verify/findings.js";
import type { Verifier } from "../evidence/verify/verifier.js";
import type { Trust } from "../crypto/pki/trust.js";
import { isStrictDerCertificate } from "../crypto/sign/signed-data-strict.js";
import { validatePath } from "../crypto/pki/validate.js";
import { parsePemCertificates, toPem, type x509 } from "../crypto/pki/x509.js";
import { PromotionRecord } from "../record/schema.js";
import { type Claim, claim, readFinding } from "./claims.js";
import { need, parseJsonFile } from "./facts.js";
import {
  type BundleIndex,
  CHECKPOINT_CHAIN,
  CHECKPOINT_NOTE,
  CHECKPOINT_TST,
  cycleFile,
  SEALING_CHAIN,
  TSA_CHAIN,
} from "./layout.js";
import { tsaChainPem } from "./tsa-token.js";

/*
 * The bundle's certificate chains: the checkpoint's (ledger/checkpoint-chain.pem, with the
 * note and its time-stamp token the Verifier checks against it, and the TSA's certificates the
 * token carries, certs/tsa-chain.pem) and the sealing certificate's (certs/sealing-chain.pem),
 * which every seal of every cycle must be made with.
 */

const der = (c: x509.X509Certificate) => Buffer.from(c.rawData);

/**
 * A PEM file holding exactly these certificates, in the form sealgate writes, each signed by the
 * next, the last by a certificate you trust (or one of them, byte for byte). Path validation may
 * build through your own copies and never read the bundle's, so each copy is checked here: a
 * changed byte in any of them must not go unnoticed. The first problem ends the reading.
 */
async function readChain(
  files: ReadonlyMap<string, Uint8Array>,
  path: string,
  trust: Trust,
): Promise<{ certs: x509.X509Certificate[]; problem?: Finding }> {
  const where = { member: path };
  let text: string;
  let certs: x509.X509Certificate[];
  try {
    text = need(files, path).toString("utf8");
    certs = parsePemCertificates(text, path);
  } catch (err) {
    return { certs: [], problem: readFinding(files, path, err, "CERT_MALFORMED", where) };
  }
  const bad = (code: "BUNDLE_INVALID" | "CERT_MALFORMED" | "CERT_BAD_SIGNATURE", message: string) => ({
    certs,
    problem: finding(code, code === "BUNDLE_INVALID" ? "container" : "certificates", message, where),
  });
  if (certs.length === 0) return bad("BUNDLE_INVALID", `${path} holds no certificate`);
  if (certs.map((c) => toPem(c.rawData, "CERTIFICATE")).join("") !== text)
    return bad("BUNDLE_INVALID", `${path} holds bytes besides its certificates`);
  const trusted = [...trust.anchors, ...trust.intermediates];
  for (let i = 0; i < certs.length; i++) {
    const cert = certs[i]!;
    // OpenSSL parses certificates as strict DER, which the JavaScript parser does not: a changed
    // length byte that still decodes must not pass for the certificate that was sealed.
    if (!isStrictDerCertificate(der(cert)))
      return bad("CERT_MALFORMED", `${path}: certificate ${i + 1} is not DER-encoded`);
    if (trust.anchors.some((a) => der(a).equals(der(cert)))) continue;
    const next = certs[i + 1];
    const issuers = next ? [next] : trusted.filter((c) => c.subject === cert.issuer);
    let signed = false;
    for (const issuer of issuers)
      signed ||= await cert.verify({ publicKey: issuer.publicKey, signatureOnly: true }).catch(() => false);
    if (!signed)
      return bad(
        "CERT_BAD_SIGNATURE",
        `${path}: certificate ${i + 1} ("${cert.subject}") is not signed by ${next ? "the next one" : "a certificate you trust"}`,
      );
  }
  return { certs };
}

export interface CheckpointRead {
  claim: Claim;
  /** The note and chain as the bundle holds them, for each cycle's Verifier run. */
  signed: SignedCheckpoint;
  /** Set when the Verifier accepted the checkpoint. */
  verified?: Checkpoint;
  signer?: x509.X509Certificate;
}

/** certs/tsa-chain.pem must be exactly the token's certificates, so none of its bytes goes unchecked. */
function tsaChainFindings(files: ReadonlyMap<string, Uint8Array>, tst: Uint8Array): Finding[] {
  const where = { member: TSA_CHAIN };
  try {
    const held = need(files, TSA_CHAIN).toString("utf8");
    if (held === tsaChainPem(tst)) return [];
    return [
      finding(
        "BUNDLE_INVALID",
        "container",
        `${TSA_CHAIN} is not the certificates ${CHECKPOINT_TST} carries`,
        where,
      ),
    ];
  } catch (err) {
    return [readFinding(files, TSA_CHAIN, err, "BUNDLE_INVALID", where)];
  }
}

/** `checkpoint`: the chain file is sealgate's own, and the Verifier accepts the note (and its time-stamp) under it. */
export async function verifyCheckpointClaim(
  files: ReadonlyMap<string, Uint8Array>,
  verifier: Verifier,
): Promise<CheckpointRead> {
  const findings: Finding[] = [];
  const { certs, problem } = await readChain(files, CHECKPOINT_CHAIN, verifier.trust);
  if (problem) findings.push(problem);
  let note = "";
  try {
    note = need(files, CHECKPOINT_NOTE).toString("utf8");
  } catch (err) {
    findings.push(
      readFinding(files, CHECKPOINT_NOTE, err, "CHECKPOINT_INVALID", { member: CHECKPOINT_NOTE }),
    );
  }
  const tst = files.get(CHECKPOINT_TST);
  const signed: SignedCheckpoint = {
    note,
    chain: certs.map((c) => der(c).toString("base64")),
    ...(tst ? { tst: Buffer.from(tst).toString("base64") } : {}),
  };
  if (tst) findings.push(...tsaChainFindings(files, tst));
  let verified: Checkpoint | undefined;
  if (note && certs.length) {
    const r = await verifier.verifyCheckpoint(signed, { member: CHECKPOINT_NOTE });
    findings.push(...r.findings);
    verified = r.checkpoint;
  }
  const title = "the ledger checkpoint is signed by a certificate of your CA";
  return {
    claim: claim("checkpoint", title, findings),
    signed,
    ...(verified ? { verified } : {}),
    ...(certs[0] ? { signer: certs[0] } : {}),
  };
}

/**
 * `certificates`: the sealing chain is sealgate's own, names the ledger's signer, and validates
 * for sealing when the newest record was sealed. Its leaf (DER) is what every seal is checked
 * against; an unreadable chain leaves none.
 */
export async function verifySealingClaim(
  files: ReadonlyMap<string, Uint8Array>,
  trust: Trust,
  index: BundleIndex,
  checkpointSigner: x509.X509Certificate | undefined,
): Promise<{ claim: Claim; sealer?: Buffer }> {
  const title = `the sealing certificate (${SEALING_CHAIN}) chains to your CA`;
  const where: Where = { member: SEALING_CHAIN };
  const { certs, problem } = await readChain(files, SEALING_CHAIN, trust);
  if (problem) return { claim: claim("certificates", title, [problem]) };
  const [leaf, ...rest] = certs as [x509.X509Certificate, ...x509.X509Certificate[]];
  const findings: Finding[] = [];
  if (checkpointSigner && checkpointSigner.subject !== leaf.subject)
    findings.push(
      finding(
        "SIGNER_MISMATCH",
        "certificates",
        `the sealer "${leaf.subject}" is not the ledger's signer "${checkpointSigner.subject}"`,
        where,
      ),
    );
  // The chain is read; a bad record only leaves its validity at sealing time unknown.
  const path = cycleFile(index.cycles[0]!.number, "record.json");
  let sealedAt: Date | undefined;
  try {
    sealedAt = new Date(parseJsonFile(files, path, PromotionRecord).sealedAt);
  } catch {
    findings.push(
      finding(
        "RECORD_INVALID",
        "timestamps",
        `its validity at sealing time is unknown: ${path} is unreadable (see that cycle's record claim)`,
        where,
      ),
    );
  }
  if (sealedAt)
    await validatePath(leaf, rest, trust, { at: sealedAt, purpose: "sealing" }).catch((err: unknown) =>
      findings.push(findingOf(err, "certificates", where, "CERT_MALFORMED")),
    );
  return { claim: claim("certificates", title, findings), sealer: der(leaf) };
}
