import { z } from "zod";
import type { Checkpoint, SignedCheckpoint } from "../evidence/ledger/checkpoint.js";
import { type Finding, type FindingCode, finding, type Where } from "../evidence/verify/findings.js";
import type { SealedRecord, Verifier } from "../evidence/verify/verifier.js";
import { canonicalBytes } from "../record/canonical.js";
import { PromotionRecord } from "../record/schema.js";
import { documentIdOf, pdfId } from "../crypto/sign/pdf-id.js";
import { type Claim, claim, readFinding } from "./claims.js";
import { need, parseJsonFile, sha256Of } from "./facts.js";
import { checkJsonDepth } from "./limits.js";
import {
  type BundleIndex,
  CHECKPOINT_NOTE,
  cycleFile,
  InclusionFile,
  objectPath,
  recordObjects,
  SEALING_CHAIN,
} from "./layout.js";
import { verifyGovernance } from "./verify-governance.js";

/*
 * The claims of one cycle. Its members become one SealedRecord for the Verifier (record, three
 * seals, approvals, ledger entry with its proof, the bundle's checkpoint and sealing certificate),
 * verified once; each finding goes to the claim of the member it concerns. Beside it the bundle
 * checks what only a bundle has: canonical bytes, the cycle number, the PDF's document ID, the
 * objects, the review package and the approval order under the sealed policy.
 */

type Cycle = BundleIndex["cycles"][number];

/** Each claim of a cycle, in the order the report lists them. */
const TITLES = {
  record: (c: Cycle) => `the record is intact and is ${c.record}`,
  jws: () => "the record's JWS seal verifies and chains to your CA",
  cms: () => "the record's CMS seal (.p7s) verifies and chains to your CA",
  pdf: () => "the signed PDF is intact, sealed, and shows this record",
  objects: () => "every object the record names is present and intact",
  package: () => "the review package the approvers signed matches the record",
  approvals: () => "every approver's signature verifies and matches the record",
  order: () => "the approvals came in the order, and from the people, the sealed policy requires",
  inclusion: () => "the ledger entry names the record and is in the signed checkpoint",
  events: () =>
    "the cycle's ledger events are the ones its seal names, each in the signed checkpoint, and the policy judged them in ledger order",
} as const;
export type CycleClaim = keyof typeof TITLES;

export interface CycleContext {
  files: ReadonlyMap<string, Uint8Array>;
  verifier: Verifier;
  /** DER of the bundle's sealing certificate (certs/sealing-chain.pem), when readable. */
  sealer?: Buffer;
  /** The bundle's checkpoint: accepted by the checkpoint claim, or as held, for the Verifier to judge. */
  checkpoint: { verified: Checkpoint } | { signed: SignedCheckpoint };
}

const Flattened = z.strictObject({ protected: z.string(), payload: z.string(), signature: z.string() });

/** The bundle's reading of one cycle: what the Verifier gets, and which claim each member is for. */
interface CycleParts {
  sealed: SealedRecord;
  record?: PromotionRecord;
  /** Members the bundle could not read: its finding about each stands for any the Verifier would add. */
  unread: Set<string>;
  claimOf: Map<string, CycleClaim>;
}

class CycleFindings {
  private readonly found = new Map<CycleClaim, Finding[]>();
  constructor(readonly c: Cycle) {}
  where = (member: string): Where => ({ member, cycle: this.c.number });
  add = (kind: CycleClaim, f: Finding) => void this.found.set(kind, [...this.of(kind), f]);
  of = (kind: CycleClaim) => this.found.get(kind) ?? [];
  claims = (): Claim[] =>
    // Only a ledger-judged cycle has events; a tag-carried one reports what it always did.
    (Object.keys(TITLES) as CycleClaim[])
      .filter((k) => k !== "events" || this.c.events || this.of(k).length)
      .map((k) =>
        claim(`cycle-${this.c.number}.${k}`, `cycle ${this.c.number}: ${TITLES[k](this.c)}`, this.of(k)),
      );
}

function readParts(ctx: CycleContext, out: CycleFindings): CycleParts {
  const { files } = ctx;
  const c = out.c;
  const path = (f: Parameters<typeof cycleFile>[1]) => cycleFile(c.number, f);
  const sealed: SealedRecord = { digest: c.record, ...(ctx.sealer ? { sealer: ctx.sealer } : {}) };
  const parts: CycleParts = { sealed, unread: new Set(), claimOf: new Map() };
  const read = <T>(member: string, kind: CycleClaim, code: FindingCode, fn: () => T): T | undefined => {
    parts.claimOf.set(member, kind);
    try {
      return fn();
    } catch (err) {
      parts.unread.add(member);
      out.add(kind, readFinding(files, member, err, code, out.where(member)));
      return undefined;
    }
  };
  const held = (member: string) => ({ bytes: need(files, member), where: out.where(member) });

  const record = read(path("record.json"), "record", "RECORD_INVALID", () =>
    parseJsonFile(files, path("record.json"), PromotionRecord),
  );
  if (record) [parts.record, sealed.record] = [record, held(path("record.json"))];
  if (
    read(path("record.jws"), "jws", "SIGNATURE_MALFORMED", () =>
      parseJsonFile(files, path("record.jws"), Flattened),
    )
  )
    sealed.jws = held(path("record.jws"));
  const cms = read(path("record.p7s"), "cms", "SIGNATURE_MALFORMED", () => held(path("record.p7s")));
  if (cms) sealed.cms = cms;
  const pdf = read(path("record.pdf"), "pdf", "SIGNATURE_MALFORMED", () => held(path("record.pdf")));
  if (pdf) sealed.pdf = pdf;
  // One part per approval the record names, at its index; an unreadable one is the bundle's finding.
  sealed.approvals = (record?.approvals ?? []).map((a) => {
    const member = objectPath(a.assertion);
    const text = read(member, "approvals", "APPROVAL_INVALID", () => need(files, member).toString("utf8"));
    return { bytes: text ?? "", where: out.where(member) };
  });

  const line = read(path("entry.json"), "inclusion", "ENTRY_MALFORMED", () => {
    checkJsonDepth(need(files, path("entry.json")), path("entry.json"));
    return need(files, path("entry.json"));
  });
  const proof = read(path("inclusion.json"), "inclusion", "INCLUSION_INVALID", () =>
    parseJsonFile(files, path("inclusion.json"), InclusionFile),
  );
  if (line && proof)
    sealed.entry = {
      line,
      seq: c.seq,
      proof: proof.hashes.map((h) => Buffer.from(h, "hex")),
      where: { ...out.where(path("entry.json")), entry: c.seq },
    };
  parts.claimOf.set(CHECKPOINT_NOTE, "inclusion");
  sealed.checkpoint = { ...ctx.checkpoint, where: out.where(CHECKPOINT_NOTE) };
  if (proof) inclusionFile(ctx, out, proof);
  return parts;
}

/** inclusion.json as export writes it: canonical, for this entry of the checkpoint's tree. */
function inclusionFile(ctx: CycleContext, out: CycleFindings, proof: InclusionFile) {
  const member = cycleFile(out.c.number, "inclusion.json");
  if (!Buffer.from(canonicalBytes(proof)).equals(need(ctx.files, member)))
    out.add(
      "inclusion",
      finding("NOT_CANONICAL", "container", `${member} is not canonical`, out.where(member)),
    );
  const size = "verified" in ctx.checkpoint ? ctx.checkpoint.verified.size : proof.size;
  if (proof.index !== out.c.seq || proof.size !== size)
    out.add(
      "inclusion",
      finding(
        "INCLUSION_INVALID",
        "inclusion",
        `the proof is for entry ${proof.index} of ${proof.size}, not entry ${out.c.seq} of the checkpoint's ${size}`,
        out.where(member),
      ),
    );
}

/** What the record and its JWS must be beyond their signatures: canonical, and of this cycle. */
function recordForm(ctx: CycleContext, out: CycleFindings, parts: CycleParts) {
  const { record, sealed } = parts;
  const member = cycleFile(out.c.number, "record.json");
  if (record && !Buffer.from(canonicalBytes(record)).equals(need(ctx.files, member)))
    out.add(
      "record",
      finding(
        "NOT_CANONICAL",
        "container",
        "record.json is not in canonical RFC 8785 form",
        out.where(member),
      ),
    );
  if (record && record.cycle.number !== out.c.number)
    out.add(
      "record",
      finding(
        "RECORD_INVALID",
        "container",
        `the record says cycle ${record.cycle.number}`,
        out.where(member),
      ),
    );
  const jws = sealed.jws;
  const flat = jws && parseJsonFile(ctx.files, jws.where.member!, Flattened);
  if (jws && !Buffer.from(canonicalBytes(flat)).equals(Buffer.from(jws.bytes)))
    out.add(
      "jws",
      finding("NOT_CANONICAL", "container", "record.jws is not in canonical RFC 8785 form", jws.where),
    );
}

/** `objects`: every object the record names is here and hashes to its name. */
function objects(ctx: CycleContext, out: CycleFindings, record: PromotionRecord | undefined) {
  const member = cycleFile(out.c.number, "record.json");
  if (!record)
    return out.add(
      "objects",
      finding(
        "RECORD_INVALID",
        "container",
        "no readable record to read the object list from",
        out.where(member),
      ),
    );
  for (const o of recordObjects(record, out.c)) {
    const path = objectPath(o.digest);
    const where = { ...out.where(path), object: o.digest };
    const actual = sha256Of(ctx.files, path);
    if (!actual)
      out.add("objects", finding("OBJECT_MISSING", "container", `${o.digest} (${o.role}) is missing`, where));
    else if (actual !== o.digest.slice(7))
      out.add(
        "objects",
        finding("DIGEST_MISMATCH", "container", `${o.digest} (${o.role}) does not hash to its name`, where),
      );
  }
}

/** The Verifier's findings, each in the claim of the member it concerns. Returns whether it failed the record. */
function distribute(found: Finding[], out: CycleFindings, parts: CycleParts): boolean {
  const recordMember = cycleFile(out.c.number, "record.json");
  let recordFailed = false;
  for (const f of found) {
    // Only a record and the approval count are judged without a member: the record is one.
    const member = f.where.member ?? (f.code.startsWith("APPROVAL") ? undefined : recordMember);
    if (member && parts.unread.has(member)) continue;
    const kind = (member && parts.claimOf.get(member)) || (member ? "record" : "approvals");
    recordFailed ||= kind === "record";
    // The auditor holds the sealing certificate as a file of this bundle: name it.
    const message =
      f.code === "SIGNER_MISMATCH"
        ? f.message.replace(/the sealing certificate$/, `the bundle's sealing certificate (${SEALING_CHAIN})`)
        : f.message;
    out.add(kind, {
      ...f,
      message,
      where: { ...f.where, ...(member ? { member } : {}), cycle: out.c.number },
    });
  }
  return recordFailed;
}

/**
 * A seal whose own claim is still clean may yet be unproven: the Verifier checks no signature
 * over a record that failed, and no signer against a sealing certificate it was not given; and
 * the PDF must show this record.
 */
function sealsUnproven(ctx: CycleContext, out: CycleFindings, parts: CycleParts, recordFailed: boolean) {
  const { sealed, record } = parts;
  const seals = [
    ["jws", sealed.jws],
    ["cms", sealed.cms],
    ["pdf", sealed.pdf],
  ] as const;
  const pdf = sealed.pdf;
  if (pdf && out.of("pdf").length === 0 && pdfId(pdf.bytes) !== documentIdOf(out.c.record))
    out.add(
      "pdf",
      finding(
        "PAYLOAD_MISMATCH",
        "signatures",
        "the PDF's document ID is not this record's digest",
        pdf.where,
      ),
    );
  const why = record ? "record.json did not verify (see the record claim)" : "record.json is unreadable";
  for (const [kind, part] of seals) {
    if (!part || out.of(kind).length) continue;
    if (kind !== "pdf" && (!record || recordFailed))
      out.add(
        kind,
        finding(
          "RECORD_INVALID",
          "signatures",
          `${why}, so there is nothing to check the signature over`,
          part.where,
        ),
      );
    else if (!ctx.sealer)
      out.add(
        kind,
        finding(
          "BUNDLE_INVALID",
          "certificates",
          `the bundle's sealing certificate (${SEALING_CHAIN}) is unreadable`,
          part.where,
        ),
      );
  }
  if (record && recordFailed && sealed.approvals?.length && out.of("approvals").length === 0)
    out.add(
      "approvals",
      finding(
        "RECORD_INVALID",
        "signatures",
        `${why}, so the approvals cannot be matched to it`,
        sealed.record!.where,
      ),
    );
}

export async function verifyCycle(ctx: CycleContext, c: Cycle): Promise<Claim[]> {
  const out = new CycleFindings(c);
  const parts = readParts(ctx, out);
  recordForm(ctx, out, parts);
  objects(ctx, out, parts.record);
  const verified = await ctx.verifier.verify(parts.sealed, { approvals: true });
  const recordFailed = distribute(verified.findings, out, parts);
  sealsUnproven(ctx, out, parts, recordFailed);
  const checkpoint = "verified" in ctx.checkpoint ? ctx.checkpoint.verified : undefined;
  const events = {
    files: ctx.files,
    trust: ctx.verifier.trust,
    ...(ctx.sealer ? { sealer: ctx.sealer } : {}),
    ...(checkpoint ? { checkpoint } : {}),
  };
  await verifyGovernance(events, verified.approvals, c, parts.record, out);
  return out.claims();
}
