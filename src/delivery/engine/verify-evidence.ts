import { SealgateError } from "../../core/errors.js";
import { RECORD_JWS_TYP } from "../../record/schema.js";
import { verifyCheckpoint } from "../../evidence/ledger/checkpoint.js";
import { parseEntry } from "../../evidence/ledger/ledger.js";
import { leafHash, verifyInclusion } from "../../evidence/ledger/merkle.js";
import type { Trust } from "../../crypto/pki/trust.js";
import { canonicalBytes } from "../../record/canonical.js";
import { verifyApproval } from "../../crypto/sign/approval.js";
import { b64u, fromB64 } from "../../crypto/sign/base64.js";
import { verifyJws } from "../../crypto/sign/jws.js";
import { EVIDENCE_TYP, type EvidenceBody, EvidenceDocument } from "./evidence.js";
import { digestOf } from "../../core/digest.js";

/*
 * Check an evidence.json as an auditor's tool would: exact RFC 8785 bytes, the document
 * signature, the record against its digest and its own JWS, every approval assertion against
 * the record, and the ledger entry's inclusion in the signed checkpoint. Any failure throws.
 */

const bad = (msg: string) => new SealgateError("EVIDENCE_INVALID", `evidence.json: ${msg}`);

export async function verifyEvidence(bytes: Uint8Array, trust: Trust): Promise<EvidenceBody> {
  let raw: unknown;
  try {
    raw = JSON.parse(Buffer.from(bytes).toString("utf8"));
  } catch {
    throw bad("not JSON");
  }
  const doc = EvidenceDocument.safeParse(raw);
  if (!doc.success)
    throw bad(`field ${doc.error.issues[0]?.path.join(".") || "(root)"}: ${doc.error.issues[0]?.message}`);
  if (!Buffer.from(canonicalBytes(raw)).equals(Buffer.from(bytes)))
    throw bad("not in RFC 8785 canonical form");
  const { evidence: e, signature } = doc.data;
  const payload = canonicalBytes(e, "evidence");
  await verifyJws(
    { protected: signature.protected, payload: b64u(payload), signature: signature.signature },
    trust,
    {
      purpose: "sealing",
      at: new Date(e.createdAt),
      typ: EVIDENCE_TYP,
    },
  );

  const recordBytes = canonicalBytes(e.record, "record");
  if (digestOf(recordBytes) !== e.recordDigest) throw bad("record does not hash to recordDigest");
  const signed = await verifyJws(e.recordJws, trust, {
    purpose: "sealing",
    at: new Date(e.record.sealedAt),
    typ: RECORD_JWS_TYP,
  });
  if (!Buffer.from(signed.payload).equals(Buffer.from(recordBytes))) throw bad("recordJws signs other bytes");

  if (e.approvals.length !== e.record.approvals.length) throw bad("approval count differs from the record's");
  for (const [i, jws] of e.approvals.entries()) {
    if (digestOf(Buffer.from(jws, "utf8")) !== e.record.approvals[i]!.assertion)
      throw bad(`approvals.${i} is not the assertion the record names`);
    await verifyApproval(jws, trust);
  }

  const line = Buffer.from(e.ledger.entry, "utf8");
  const entry = parseEntry(line);
  if (!entry || entry.record !== e.recordDigest || entry.seq !== e.ledger.seq)
    throw bad("ledger.entry is not this record's entry");
  const checkpoint = await verifyCheckpoint(e.checkpoint, trust);
  if (checkpoint.size !== e.ledger.treeSize) throw bad("ledger.treeSize differs from the checkpoint's size");
  const proof = e.ledger.inclusionProof.map((h, i) => {
    try {
      return fromB64(h, "hash");
    } catch {
      throw bad(`ledger.inclusionProof.${i} is not canonical base64`);
    }
  });
  if (!verifyInclusion(e.ledger.seq, e.ledger.treeSize, leafHash(line), proof, checkpoint.root))
    throw bad("the inclusion proof does not lead to the checkpoint's root");
  return e;
}
