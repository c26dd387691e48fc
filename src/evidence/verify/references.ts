import type { Digest } from "../../core/digest.js";
import { SealgateError } from "../../core/errors.js";
import { EVENT_TYP } from "../../crypto/sign/event.js";
import { decodeJws, verifyJwsSignature } from "../../crypto/sign/jws.js";
import { canonicalBytes } from "../../record/canonical.js";
import { eventReferences, WorkflowEvent } from "../../record/event.js";
import { type Finding, finding, findingOf } from "./findings.js";
import type { Rehashed } from "./rehash.js";

/*
 * Which entry reaches which object (the first entry to reach it, and through which member), so
 * that after the store is re-hashed each corrupt or missing object names the entry that needs
 * it, and each object no entry reaches is a warning.
 */

interface Referrer {
  entry: number;
  member: string;
}

export class References {
  private readonly by = new Map<string, Referrer>();
  /** Objects the walk itself already reported (read while following an entry). */
  private readonly reported = new Set<string>();
  /** What the derived indexes say about an object no entry reaches (index/review-pdfs.jsonl). */
  readonly notes = new Map<string, string>();

  /** The earliest entry wins, whatever order entries are followed in. */
  add(digest: string, entry: number, member: string): void {
    const had = this.by.get(digest);
    if (!had || had.entry > entry) this.by.set(digest, { entry, member });
  }

  has(digest: string): boolean {
    return this.by.has(digest);
  }

  markReported(digest: string): void {
    this.reported.add(digest);
  }

  /** Join the walk with the store's re-hash: corrupt, unreadable, missing (errors) and unreferenced (warnings). */
  settle(r: Rehashed, findings: Finding[], warnings: Finding[]): { objects: number; bytes: number } {
    const where = (digest: string) => {
      const ref = this.by.get(digest);
      return ref ? { entry: ref.entry, object: digest, member: ref.member } : { object: digest };
    };
    for (const { digest, actual } of r.corrupt)
      if (!this.reported.has(digest))
        findings.push(
          finding(
            "OBJECT_CORRUPT",
            "container",
            `object ${digest} is corrupt: its bytes hash to ${actual}`,
            where(digest),
          ),
        );
    for (const { digest, error } of r.unreadable)
      if (!this.reported.has(digest))
        findings.push(findingOf(error, "container", where(digest), "OBJECT_UNREADABLE"));
    for (const [digest, ref] of this.by)
      if (!r.listed.has(digest) && !this.reported.has(digest))
        findings.push(
          finding(
            "OBJECT_MISSING",
            "container",
            `object ${digest} is not in the store; entry ${ref.entry} references it (${ref.member})`,
            { entry: ref.entry, object: digest, member: ref.member },
          ),
        );
    for (const digest of r.listed)
      if (!this.by.has(digest)) {
        const note = this.notes.get(digest);
        warnings.push(
          finding(
            "OBJECT_UNREFERENCED",
            "container",
            `no ledger entry references object ${digest}${note ? `: ${note}` : ""}`,
            { object: digest },
          ),
        );
      }
    return { objects: r.objects, bytes: r.bytes };
  }
}

/**
 * An event entry's part of the reference graph: the event object, then every object the event
 * names (record/event.ts eventReferences: assertion, annotation, package, review PDF, record...),
 * each reached through `event.<member>`. The event must be a well-formed event JWS whose payload
 * is a canonical sealgate.event/1 and whose signature verifies under its own x5c certificate; one
 * that does not is a finding. (Its chain to the trust anchors and its signer's authority are the
 * sealer's and the bundle verifier's to judge, with trust and policy at hand.)
 */
export async function followEvent(
  read: (digest: Digest) => Uint8Array | Promise<Uint8Array>,
  object: Digest,
  i: number,
  refs: References,
  findings: Finding[],
): Promise<void> {
  refs.add(object, i, "object");
  const where = { entry: i, object, member: "object" };
  let bytes: Uint8Array;
  try {
    bytes = await read(object);
  } catch (err) {
    refs.markReported(object);
    findings.push(findingOf(err, "container", where, "OBJECT_UNREADABLE"));
    return;
  }
  let event: WorkflowEvent;
  try {
    event = await readEvent(Buffer.from(bytes).toString("utf8"));
  } catch (err) {
    findings.push(findingOf(err, "signatures", where, "SIGNATURE_INVALID"));
    return;
  }
  for (const r of eventReferences(event)) refs.add(r.digest, i, `event.${r.member}`);
}

/** The event a stored JWS holds: shape, typ, schema, canonical payload and signature checked. */
async function readEvent(jws: string): Promise<WorkflowEvent> {
  const d = decodeJws(jws, { typ: EVENT_TYP });
  const payload = Buffer.from(await verifyJwsSignature(d));
  let raw: unknown;
  try {
    raw = JSON.parse(payload.toString("utf8"));
  } catch {
    throw new SealgateError("SIGNATURE_MALFORMED", "event: payload is not JSON");
  }
  const r = WorkflowEvent.safeParse(raw);
  if (!r.success) {
    const issue = r.error.issues[0];
    throw new SealgateError(
      "SIGNATURE_MALFORMED",
      `event: not a sealgate.event/1: ${issue?.path.join(".") || "(root)"}: ${issue?.message}`,
    );
  }
  if (!payload.equals(Buffer.from(canonicalBytes(r.data, "event"))))
    throw new SealgateError("SIGNATURE_MALFORMED", "event: payload is not the canonical (RFC 8785) form");
  return r.data;
}
