import type { Digest } from "../../core/digest.js";
import type { LedgerEntry } from "../ledger/ledger.js";
import { recordReferences } from "../../record/objects.js";
import { PromotionRecord } from "../../record/schema.js";
import { Seal, sealReferences } from "../../record/seal.js";
import type { SealIndex } from "../store/seal-index.js";
import { type Finding, finding, findingOf, type Where } from "./findings.js";
import { followEvent, type References } from "./references.js";

/*
 * The reference graph, as FORMAT.md states it for any verifier: from each ledger entry, every
 * object it reaches.
 *   record entry (v2) -> the record -> its objects (record/objects.ts recordReferences)
 *                     -> the seal object -> JWS, CMS, PDF, package, policy (+ modelSignature,
 *                        reviewPdfs, events when present: record/seal.ts sealReferences)
 *   record entry (v1, before seal objects) -> the record -> its objects, and its JWS, CMS and
 *                        PDF as index/sealed.jsonl names them (a derived cache, if present)
 *   event entry -> the event object -> what it names (references.ts followEvent)
 * Objects read here (record, seal) are re-hashed on the way, so their bytes are the ones the
 * entry names; their RFC 8785 form is the sealer's to produce and is not re-derived here (a
 * cost per record that would dominate verify). The rest are checked when the whole store is
 * re-hashed (references.ts joins the two).
 */

/**
 * How the walk reads an object: its bytes, re-hashed (throws OBJECT_CORRUPT/OBJECT_MISSING
 * otherwise). Synchronous: the caller reads each batch of entries' objects ahead (objectsOf).
 */
export type ReadObject = (digest: Digest) => Uint8Array;

/** The objects following an entry reads: its record and its seal object, or its event object. */
export function objectsOf(entry: LedgerEntry): Digest[] {
  if (entry.kind === "event") return [entry.object];
  return entry.seal ? [entry.object, entry.seal] : [entry.object];
}

export function followEntry(
  parts: { read: ReadObject; index?: SealIndex },
  entry: LedgerEntry,
  i: number,
  refs: References,
  findings: Finding[],
  warnings: Finding[],
): void | Promise<void> {
  // An event's signature check is WebCrypto's, so asynchronous; records and seals are not.
  if (entry.kind === "event") return followEvent(parts.read, entry.object, i, refs, findings);
  refs.add(entry.object, i, "object");
  const record = readJson(
    parts.read,
    entry.object,
    { entry: i, object: entry.object, member: "object" },
    refs,
    findings,
  );
  const parsed = record === undefined ? undefined : PromotionRecord.safeParse(record.json);
  let rec: PromotionRecord | undefined;
  if (parsed && !parsed.success) {
    const issue = parsed.error.issues[0];
    findings.push(
      finding(
        "RECORD_INVALID",
        "container",
        `not a promotion record: ${issue?.path.join(".") || "(root)"}: ${issue?.message}`,
        {
          entry: i,
          object: entry.object,
        },
      ),
    );
  } else if (parsed) {
    rec = parsed.data;
    for (const r of recordReferences(rec)) refs.add(r.digest, i, `record.${r.member}`);
  }
  if (entry.seal) followSeal(parts.read, entry, entry.seal, rec, i, refs, findings);
  else legacyRenderings(parts.index, entry.object, i, refs, warnings);
}

function followSeal(
  read: ReadObject,
  entry: LedgerEntry,
  digest: Digest,
  record: PromotionRecord | undefined,
  i: number,
  refs: References,
  findings: Finding[],
) {
  refs.add(digest, i, "seal");
  const where = { entry: i, object: digest, member: "seal" };
  const got = readJson(read, digest, where, refs, findings);
  if (got === undefined) return;
  const { json } = got;
  const parsed = Seal.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    findings.push(
      finding(
        "SEAL_INVALID",
        "container",
        `not a seal object: ${issue?.path.join(".") || "(root)"}: ${issue?.message}`,
        where,
      ),
    );
    return;
  }
  const seal = parsed.data;
  for (const r of sealReferences(seal)) refs.add(r.digest, i, `seal.${r.member}`);
  const bad = (why: string) => findings.push(finding("SEAL_INVALID", "container", why, where));
  if (seal.record !== entry.object)
    bad(`the seal object names record ${seal.record}, not the entry's ${entry.object}`);
  if (record && seal.package !== record.package)
    bad(`the seal names package ${seal.package}, the record ${record.package}`);
  if (record && seal.policy !== record.policy.digest)
    bad(`the seal names policy ${seal.policy}, the record ${record.policy.digest}`);
}

/** A v1 record's renderings: only index/sealed.jsonl knows them. */
function legacyRenderings(
  index: SealIndex | undefined,
  record: Digest,
  i: number,
  refs: References,
  warnings: Finding[],
) {
  const line = index?.byRecord(record);
  if (line) {
    refs.add(line.jws, i, "index/sealed.jsonl jws");
    refs.add(line.p7s, i, "index/sealed.jsonl p7s");
    refs.add(line.pdf, i, "index/sealed.jsonl pdf");
    return;
  }
  warnings.push(
    finding(
      "RENDERINGS_UNKNOWN",
      "container",
      "this record predates seal objects (a v1 entry) and index/sealed.jsonl has no line for it: its JWS, CMS and PDF are not known, so not checked",
      { entry: i, object: record },
    ),
  );
}

/** An object's bytes as JSON, re-hashed on the way; undefined (and reported) if that fails. */
function readJson(read: ReadObject, digest: Digest, where: Where, refs: References, findings: Finding[]) {
  let bytes: Uint8Array;
  try {
    bytes = read(digest);
  } catch (err) {
    refs.markReported(digest);
    findings.push(findingOf(err, "container", where, "OBJECT_UNREADABLE"));
    return undefined;
  }
  try {
    // A view of the bytes, not a copy.
    const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("utf8");
    return { json: JSON.parse(text) as unknown };
  } catch {
    findings.push(
      finding(where.member === "seal" ? "SEAL_INVALID" : "RECORD_INVALID", "container", "not JSON", where),
    );
    return undefined;
  }
}
