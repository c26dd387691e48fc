import {
  type Checkpoint,
  decodeCheckpoint,
  type DecodedCheckpoint,
  type SignedCheckpoint,
  validateCheckpointChain,
  verifyCheckpointSignature,
  verifyCheckpointTimestamp,
} from "../ledger/checkpoint.js";
import { parseEntry } from "../ledger/ledger.js";
import { leafHash, verifyInclusion } from "../ledger/merkle.js";
import { verifyPdfSignature } from "../../crypto/sign/pdf-signature.js";
import type { Trust } from "../../crypto/pki/trust.js";
import { validatePath } from "../../crypto/pki/validate.js";
import type { x509 } from "../../crypto/pki/x509.js";
import { PromotionRecord, RECORD_JWS_TYP, recordDigest } from "../../record/schema.js";
import { type VerifiedApproval, verifyApproval } from "../../crypto/sign/approval.js";
import {
  checkCmsCertificates,
  type DecodedCms,
  decodeCmsDetached,
  verifyCmsSignature,
  verifyCmsTimestamp,
} from "../../crypto/sign/cms.js";
import { type DecodedJws, decodeJws, type FlattenedJws, verifyJwsSignature } from "../../crypto/sign/jws.js";
import { digestOf } from "../../core/digest.js";
import { type Finding, type FindingCode, findingOf, type Step, type Where } from "./findings.js";

/*
 * The one verifier of sealed evidence. Every caller (store, gate, evidence, bundle) hands it
 * what it has of a sealed record and prints the findings it returns; it never throws on bad
 * input. The steps run in a fixed order (container, time-stamps, certificates, signatures,
 * inclusion, policy), and a part that already failed adds no further findings, so one fault
 * is reported once.
 */

export interface Part<T> {
  bytes: T;
  where: Where;
}

/** Everything known of one sealed record, whatever it was read from (a store, a bundle, an evidence.json). */
export interface SealedRecord {
  /** The digest the record is known by (the registry tag, the ledger entry, the bundle index). */
  digest: string;
  record?: Part<Uint8Array>;
  /** The record's flattened JWS, as JSON bytes. */
  jws?: Part<Uint8Array>;
  /** The record's detached CMS (.p7s). */
  cms?: Part<Uint8Array>;
  /** The signed record PDF. */
  pdf?: Part<Uint8Array>;
  /** The approvers' assertions (compact JWS), in the record's order. */
  approvals?: Part<string>[];
  entry?: { line: Uint8Array; seq: number; proof: Buffer[]; where: Where };
  checkpoint?: { signed: SignedCheckpoint; where: Where } | { verified: Checkpoint; where: Where };
  /** DER of the certificate every seal must be made with, when the caller knows it. */
  sealer?: Buffer;
}

export interface VerificationPolicy {
  /** Check each approval assertion and that it is the one the record names. */
  approvals: boolean;
}

/** What verify() found, and the approvals whose signatures it verified (at the record's index). */
export interface Verification {
  findings: Finding[];
  /** approvals[i] is the record's i-th approval when it verified; undefined when it did not or was not checked. */
  approvals: (VerifiedApproval | undefined)[];
}

/** One verification's working state: the findings so far and which parts already failed. */
class Run {
  readonly findings: Finding[] = [];
  readonly approvals: (VerifiedApproval | undefined)[] = [];
  private readonly failed = new Set<string>();
  ok = (part: string) => !this.failed.has(part);
  fail(part: string, code: FindingCode, step: Step, message: string, where: Where) {
    this.failed.add(part);
    this.findings.push({ code, step, message, where });
  }
  /** Run `fn` for a part not yet failed; a throw fails it (CERT_* errors in the certificates step). */
  async check(part: string, step: Step, where: Where, fallback: FindingCode, fn: () => unknown) {
    if (!this.ok(part)) return;
    try {
      await fn();
    } catch (err) {
      const code = (err as { code?: unknown }).code;
      const f = findingOf(
        err,
        typeof code === "string" && code.startsWith("CERT_") ? "certificates" : step,
        where,
        fallback,
      );
      this.fail(part, f.code, f.step, f.message, where);
    }
  }
}

const der = (c: x509.X509Certificate) => Buffer.from(c.rawData);

/** The parts decoded so far, handed from step to step. */
interface Decoded {
  record?: PromotionRecord;
  jws?: DecodedJws;
  cms?: DecodedCms;
  cp?: DecodedCheckpoint;
  /** The checkpoint whose tree inclusion is proven against, once its signature verified. */
  checkpoint?: Checkpoint;
  /** genTime of the record CMS's verified signature time-stamp (CAdES-T). */
  cmsTime?: Date;
  /** genTime of the checkpoint's verified time-stamp. */
  cpTime?: Date;
}

export class Verifier {
  constructor(readonly trust: Trust) {}

  /** A signed checkpoint: the note parses, its chain validates at its time, its signature verifies. */
  async verifyCheckpoint(
    s: SignedCheckpoint,
    where: Where,
  ): Promise<{ checkpoint?: Checkpoint; findings: Finding[] }> {
    let step: Step = "container";
    try {
      const d = decodeCheckpoint(s);
      step = "timestamps";
      const ts = await verifyCheckpointTimestamp(d, this.trust);
      step = "certificates";
      await validateCheckpointChain(d, this.trust, ts?.genTime);
      step = "signatures";
      verifyCheckpointSignature(d);
      return { checkpoint: d.checkpoint, findings: [] };
    } catch (err) {
      return { findings: [findingOf(err, step, where, "CHECKPOINT_INVALID")] };
    }
  }

  async verify(r: SealedRecord, p: VerificationPolicy): Promise<Verification> {
    const run = new Run();
    const parts = await this.container(run, r);
    await this.timestamps(run, r, parts);
    // Without a verified time-stamp a seal's time is the record's sealedAt, the sealer's claim.
    const at = parts.cmsTime ?? (parts.record ? new Date(parts.record.sealedAt) : undefined);
    await this.certificates(run, r, parts, at);
    await this.signatures(run, r, parts);
    if (p.approvals && parts.record) await this.approvals(run, r, parts.record);
    this.inclusion(run, r, parts.checkpoint);
    return { findings: run.findings, approvals: run.approvals };
  }

  /** Container: each part is there and has the shape its signature covers. */
  private async container(run: Run, r: SealedRecord): Promise<Decoded> {
    const parts: Decoded = {};
    if (!r.record) run.fail("record", "OBJECT_MISSING", "container", `record ${r.digest} is not here`, {});
    else
      await run.check("record", "container", r.record.where, "RECORD_INVALID", () => {
        const bytes = r.record!.bytes;
        if (digestOf(bytes) !== r.digest)
          throw new Error(`the record's bytes hash to ${digestOf(bytes)}, not ${r.digest}`);
        parts.record = PromotionRecord.parse(JSON.parse(Buffer.from(bytes).toString("utf8")));
        if (recordDigest(parts.record) !== r.digest) throw new Error("record bytes are not canonical");
      });
    if (r.jws)
      await run.check("jws", "container", r.jws.where, "SIGNATURE_MALFORMED", () => {
        const flat = JSON.parse(Buffer.from(r.jws!.bytes).toString("utf8")) as FlattenedJws;
        parts.jws = decodeJws(flat, { typ: RECORD_JWS_TYP });
      });
    if (r.cms)
      await run.check(
        "cms",
        "container",
        r.cms.where,
        "SIGNATURE_MALFORMED",
        () => (parts.cms = decodeCmsDetached(r.cms!.bytes)),
      );
    if (r.checkpoint && "verified" in r.checkpoint) parts.checkpoint = r.checkpoint.verified;
    else if (r.checkpoint) {
      const s = r.checkpoint;
      await run.check(
        "checkpoint",
        "container",
        s.where,
        "CHECKPOINT_INVALID",
        () => (parts.cp = decodeCheckpoint(s.signed)),
      );
    }
    return parts;
  }

  /**
   * Time-stamps: each RFC 3161 token present verifies (TSA signature, timeStamping EKU, chain to
   * the trust anchors at its genTime) and covers exactly its signature's bytes. A verified
   * genTime is then the time certificates are judged at, never a claimed signing time.
   */
  private async timestamps(run: Run, r: SealedRecord, parts: Decoded) {
    const { cms, cp } = parts;
    if (cms?.timestamp)
      await run.check("cms", "timestamps", r.cms!.where, "TIMESTAMP_INVALID", async () => {
        parts.cmsTime = (await verifyCmsTimestamp(cms, this.trust))?.genTime;
      });
    if (cp?.tst)
      await run.check("checkpoint", "timestamps", r.checkpoint!.where, "TIMESTAMP_INVALID", async () => {
        parts.cpTime = (await verifyCheckpointTimestamp(cp, this.trust))?.genTime;
      });
  }

  /** Certificates: each chain once, at its seal's time. */
  private async certificates(run: Run, r: SealedRecord, parts: Decoded, at: Date | undefined) {
    const { jws, cp } = parts;
    if (jws && at)
      await run.check("jws", "certificates", r.jws!.where, "SIGNATURE_INVALID", () =>
        validatePath(jws.signer, jws.intermediates, this.trust, { purpose: "sealing", at }),
      );
    if (cp)
      await run.check("checkpoint", "certificates", r.checkpoint!.where, "CHECKPOINT_INVALID", () =>
        validateCheckpointChain(cp, this.trust, parts.cpTime),
      );
    if (jws && r.sealer && run.ok("jws") && !der(jws.signer).equals(r.sealer))
      run.fail(
        "jws",
        "SIGNER_MISMATCH",
        "certificates",
        `signed by "${jws.signer.subject}", not by the sealing certificate`,
        r.jws!.where,
      );
  }

  /** Signatures: each over exactly the bytes it seals; a verified checkpoint's tree is then known. */
  private async signatures(run: Run, r: SealedRecord, parts: Decoded) {
    const { jws, cms, cp } = parts;
    const trust = this.trust;
    const bytes = r.record?.bytes;
    if (jws && bytes && run.ok("record"))
      await run.check("jws", "signatures", r.jws!.where, "SIGNATURE_INVALID", async () => {
        const payload = await verifyJwsSignature(jws);
        if (!Buffer.from(payload).equals(Buffer.from(bytes)))
          run.fail("jws", "PAYLOAD_MISMATCH", "signatures", "the record JWS signs other bytes", r.jws!.where);
      });
    if (cms && bytes && run.ok("record"))
      await run.check("cms", "signatures", r.cms!.where, "SIGNATURE_INVALID", async () => {
        const signed = await verifyCmsSignature(cms, bytes);
        await checkCmsCertificates(cms, signed, trust, "sealing", parts.cmsTime);
        if (r.sealer && !der(signed.signer).equals(r.sealer))
          run.fail(
            "cms",
            "SIGNER_MISMATCH",
            "certificates",
            `signed by "${signed.signer.subject}", not by the sealing certificate`,
            r.cms!.where,
          );
      });
    if (r.pdf)
      await run.check("pdf", "signatures", r.pdf.where, "SIGNATURE_INVALID", async () => {
        const v = await verifyPdfSignature(r.pdf!.bytes, trust);
        if (r.sealer && !der(v.signer).equals(r.sealer))
          run.fail(
            "pdf",
            "SIGNER_MISMATCH",
            "certificates",
            `signed by "${v.signer.subject}", not by the sealing certificate`,
            r.pdf!.where,
          );
      });
    if (cp)
      await run.check("checkpoint", "signatures", r.checkpoint!.where, "CHECKPOINT_INVALID", () =>
        verifyCheckpointSignature(cp),
      );
    if (cp && run.ok("checkpoint")) parts.checkpoint = cp.checkpoint;
  }

  /** Approvals: each assertion is the one the record names, and its signature verifies. */
  private async approvals(run: Run, r: SealedRecord, record: PromotionRecord) {
    for (const [i, a] of (r.approvals ?? []).entries()) {
      const named = record.approvals[i]?.assertion;
      if (digestOf(Buffer.from(a.bytes, "utf8")) !== named) {
        run.fail(
          `approval-${i}`,
          "APPROVAL_MISMATCH",
          "policy",
          `approval ${i + 1} is not the assertion the record names`,
          a.where,
        );
        continue;
      }
      await run.check(`approval-${i}`, "signatures", a.where, "APPROVAL_INVALID", async () => {
        run.approvals[i] = await verifyApproval(a.bytes, this.trust);
      });
    }
    if (r.approvals && r.approvals.length !== record.approvals.length)
      run.fail(
        "approvals",
        "APPROVAL_MISMATCH",
        "policy",
        "the approval count differs from the record's",
        {},
      );
  }

  /** Inclusion: the entry names this record, and its proof leads to the checkpoint's root. */
  private inclusion(run: Run, r: SealedRecord, checkpoint: Checkpoint | undefined) {
    if (!r.entry) return;
    const e = r.entry;
    const entry = parseEntry(Buffer.from(e.line));
    if (!entry || entry.kind !== "record" || entry.object !== r.digest || entry.seq !== e.seq)
      run.fail(
        "entry",
        "ENTRY_MALFORMED",
        "inclusion",
        `ledger entry ${e.seq} is not this record's entry`,
        e.where,
      );
    else if (!r.checkpoint)
      run.fail(
        "entry",
        "NOT_CHECKPOINTED",
        "inclusion",
        "no signed checkpoint covers the ledger yet",
        e.where,
      );
    else if (checkpoint && checkpoint.size <= e.seq)
      run.fail(
        "entry",
        "NOT_CHECKPOINTED",
        "inclusion",
        `the signed checkpoint (size ${checkpoint.size}) does not cover entry ${e.seq} yet`,
        e.where,
      );
    else if (
      checkpoint &&
      !verifyInclusion(e.seq, checkpoint.size, leafHash(e.line), e.proof, checkpoint.root)
    )
      run.fail(
        "entry",
        "INCLUSION_INVALID",
        "inclusion",
        `entry ${e.seq} is not included in the signed checkpoint's tree`,
        e.where,
      );
  }
}
