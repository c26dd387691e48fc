import { SealgateError } from "../../core/errors.js";
import type { Trust } from "../../crypto/pki/trust.js";
import { validatePath } from "../../crypto/pki/validate.js";
import { b64u, fromB64 } from "../../crypto/sign/base64.js";
import { decodeJws, verifyJwsSignature } from "../../crypto/sign/jws.js";
import { parseCheckpoint } from "../../evidence/ledger/checkpoint.js";
import {
  describeFinding,
  type Finding,
  finding,
  findingOf,
  type Step,
} from "../../evidence/verify/findings.js";
import { type SealedRecord, Verifier } from "../../evidence/verify/verifier.js";
import { canonicalBytes } from "../../record/canonical.js";
import { EVIDENCE_TYP, type EvidenceBody, EvidenceDocument } from "./evidence.js";

/*
 * Check an evidence.json as an auditor's tool would, reporting every problem as a finding. The
 * document's own concerns are checked here: JSON, its fields, exact RFC 8785 bytes, the document
 * signature. The sealed record it carries (the record against its digest and its own JWS, each
 * approval assertion, the ledger entry's inclusion in the signed checkpoint) is the Verifier's,
 * with each finding's `where.member` naming the JSON field it is about.
 */

export async function checkEvidence(
  bytes: Uint8Array,
  trust: Trust,
): Promise<{ evidence?: EvidenceBody; findings: Finding[] }> {
  let raw: unknown;
  try {
    raw = JSON.parse(Buffer.from(bytes).toString("utf8"));
  } catch {
    return { findings: [finding("EVIDENCE_INVALID", "container", "evidence.json is not JSON")] };
  }
  const findings = canonicalFindings(raw, bytes);
  const doc = EvidenceDocument.safeParse(raw);
  if (!doc.success) {
    for (const issue of doc.error.issues)
      findings.push(
        finding(
          "EVIDENCE_INVALID",
          "container",
          issue.message,
          issue.path.length ? { member: issue.path.map(String).join(".") } : {},
        ),
      );
    return { findings };
  }
  const { evidence: e, signature } = doc.data;
  const proof = proofHashes(e, findings);
  findings.push(...(await documentSignature(e, signature, trust)));
  const { findings: recorded } = await new Verifier(trust).verify(sealedRecordOf(e, proof), {
    approvals: true,
  });
  findings.push(...recorded);
  // The size is the checkpoint's to say: a checkpoint already refused says nothing about it.
  if (!recorded.some((f) => f.where.member === "evidence.checkpoint")) findings.push(...treeSizeFindings(e));
  return { evidence: e, findings };
}

/** The checked document, or EVIDENCE_INVALID listing every finding. */
export async function verifyEvidence(bytes: Uint8Array, trust: Trust): Promise<EvidenceBody> {
  const { evidence, findings } = await checkEvidence(bytes, trust);
  if (!evidence || findings.length)
    throw new SealgateError("EVIDENCE_INVALID", `evidence.json: ${findings.map(describeFinding).join("; ")}`);
  return evidence;
}

function canonicalFindings(raw: unknown, bytes: Uint8Array): Finding[] {
  const where = {}; // the whole document
  try {
    if (Buffer.from(canonicalBytes(raw)).equals(Buffer.from(bytes))) return [];
    return [finding("NOT_CANONICAL", "container", "evidence.json is not in RFC 8785 canonical form", where)];
  } catch (err) {
    return [findingOf(err, "container", where, "NOT_CANONICAL")];
  }
}

/** The proof's hashes, or undefined when one is not canonical base64 (then inclusion is not judged). */
function proofHashes(e: EvidenceBody, findings: Finding[]): Buffer[] | undefined {
  const proof: Buffer[] = [];
  for (const [i, h] of e.ledger.inclusionProof.entries()) {
    const where = { member: `evidence.ledger.inclusionProof.${i}` };
    try {
      proof.push(fromB64(h, "the hash"));
    } catch (err) {
      findings.push(findingOf(err, "container", where, "NOT_CANONICAL"));
    }
  }
  return proof.length === e.ledger.inclusionProof.length ? proof : undefined;
}

/** The detached JWS over the evidence's RFC 8785 bytes, by a sealing certificate valid at createdAt. */
async function documentSignature(
  e: EvidenceBody,
  signature: { protected: string; signature: string },
  trust: Trust,
): Promise<Finding[]> {
  const where = { member: "signature" };
  let step: Step = "container";
  try {
    const payload = b64u(canonicalBytes(e, "evidence"));
    const d = decodeJws({ ...signature, payload }, { typ: EVIDENCE_TYP });
    step = "certificates";
    await validatePath(d.signer, d.intermediates, trust, { purpose: "sealing", at: new Date(e.createdAt) });
    step = "signatures";
    await verifyJwsSignature(d);
    return [];
  } catch (err) {
    return [findingOf(err, step, where, step === "container" ? "SIGNATURE_MALFORMED" : "SIGNATURE_INVALID")];
  }
}

/** The sealed record the document carries, each part pinned to its JSON field. */
function sealedRecordOf(e: EvidenceBody, proof: Buffer[] | undefined): SealedRecord {
  let record: Uint8Array;
  try {
    record = canonicalBytes(e.record, "record");
  } catch {
    // Not canonicalisable, so not the bytes recordDigest names: the Verifier says so.
    record = Buffer.from(JSON.stringify(e.record), "utf8");
  }
  const sealed: SealedRecord = {
    digest: e.recordDigest,
    record: { bytes: record, where: { member: "evidence.record" } },
    jws: { bytes: Buffer.from(JSON.stringify(e.recordJws), "utf8"), where: { member: "evidence.recordJws" } },
    approvals: e.approvals.map((a, i) => ({ bytes: a, where: { member: `evidence.approvals.${i}` } })),
    checkpoint: { signed: e.checkpoint, where: { member: "evidence.checkpoint" } },
  };
  if (proof)
    sealed.entry = {
      line: Buffer.from(e.ledger.entry, "utf8"),
      seq: e.ledger.seq,
      proof,
      where: { entry: e.ledger.seq, member: "evidence.ledger" },
    };
  return sealed;
}

function treeSizeFindings(e: EvidenceBody): Finding[] {
  let size: number;
  try {
    size = parseCheckpoint(e.checkpoint.note).checkpoint.size;
  } catch {
    return []; // an unreadable checkpoint is the Verifier's finding
  }
  if (size === e.ledger.treeSize) return [];
  return [
    finding(
      "EVIDENCE_INVALID",
      "inclusion",
      `ledger.treeSize is ${e.ledger.treeSize}, but the checkpoint signed ${size} entries`,
      { member: "evidence.ledger.treeSize" },
    ),
  ];
}
