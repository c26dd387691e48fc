import type { Trust } from "../crypto/pki/trust.js";
import { verifyApproval } from "../crypto/sign/approval.js";
import { verifyEvent } from "../crypto/sign/event.js";
import type { Checkpoint } from "../evidence/ledger/checkpoint.js";
import { parseEntry, sha256hex } from "../evidence/ledger/ledger.js";
import { leafHash, verifyInclusion } from "../evidence/ledger/merkle.js";
import { type Finding, finding, type Where } from "../evidence/verify/findings.js";
import { assertionMismatch, isDecision } from "../governance/events/append.js";
import { peekEvent } from "../governance/events/read.js";
import type { VerifiedAssertion } from "../policy/chain.js";
import { actorMismatch } from "../policy/person.js";
import type { Policy } from "../policy/schema.js";
import { canonicalBytes } from "../record/canonical.js";
import type { PromotionRecord } from "../record/schema.js";
import { Seal } from "../record/seal.js";
import { readFinding } from "./claims.js";
import { need, parseJsonFile, sha256Of } from "./facts.js";
import { type BundleIndex, cycleFile, eventFile, InclusionFile, objectPath } from "./layout.js";

/*
 * A ledger-judged cycle in a bundle: the seal object the record's entry names, and the events it
 * names, each in the signed checkpoint by its own entry and proof. The decisions are then handed
 * to the chain as the sealer hands them (governance/events/cycle-approvals.ts): ledger order, each
 * event and its certificate judged at its entry's append time, the assertion's `signedAt`
 * replaced by that time. An intact event that does not verify is left out of the chain, as the
 * sealer leaves it out; it is a finding only when the record counts its approval.
 */

type Cycle = BundleIndex["cycles"][number];
type Files = ReadonlyMap<string, Uint8Array>;

export interface EventsContext {
  files: Files;
  trust: Trust;
  /** DER of the bundle's sealing certificate: a system event must be signed by it. */
  sealer?: Buffer;
  /** The bundle's checkpoint, once its signature verified. */
  checkpoint?: Checkpoint;
}

/** Where the findings go: the seal object's (the inclusion claim) and the events'. */
export interface EventFindings {
  add(kind: "inclusion" | "events" | "objects", f: Finding): void;
  where(member: string): Where;
}

/** Every file a cycle's seal and events call for (an unreadable event's assertion cannot be expected). */
export function eventPaths(files: Files, c: Cycle): string[] {
  const paths = c.seal ? [objectPath(c.seal)] : [];
  for (const e of c.events ?? []) {
    paths.push(objectPath(e.object), eventFile(c.number, e.seq, "entry.json"));
    paths.push(eventFile(c.number, e.seq, "inclusion.json"));
    const event = files.has(objectPath(e.object))
      ? peekEvent(need(files, objectPath(e.object)).toString("utf8"))
      : "missing";
    if (typeof event !== "string" && isDecision(event)) paths.push(objectPath(event.assertion));
  }
  return paths;
}

/** The seal object: the one the record's entry names, about this record, naming exactly the bundle's events. */
export function verifySealObject(files: Files, c: Cycle, out: EventFindings): void {
  const entryMember = cycleFile(c.number, "entry.json");
  const entry = files.has(entryMember) ? parseEntry(need(files, entryMember)) : null;
  if (!entry) return; // The inclusion claim already says why.
  const bad = (message: string, member = entryMember) =>
    out.add("inclusion", finding("SEAL_INVALID", "inclusion", message, out.where(member)));
  if ((entry.seal ?? null) !== (c.seal ?? null))
    return bad(`the record's entry names seal ${entry.seal ?? "none"}, the bundle lists ${c.seal ?? "none"}`);
  if (!c.seal) {
    if (c.events) bad("the bundle lists ledger events, but the record's entry names no seal object");
    return;
  }
  const member = objectPath(c.seal);
  const where = { ...out.where(member), object: c.seal };
  const actual = sha256Of(files, member);
  // The seal object is one of the cycle's objects: lost or changed, it is that claim's finding.
  if (!actual)
    return out.add(
      "objects",
      finding("OBJECT_MISSING", "container", `seal object ${c.seal} is missing`, where),
    );
  if (actual !== c.seal.slice("sha256:".length))
    return out.add(
      "objects",
      finding("DIGEST_MISMATCH", "container", `seal object ${c.seal} does not hash to its name`, where),
    );
  let seal: Seal;
  try {
    seal = parseJsonFile(files, member, Seal);
  } catch (err) {
    return out.add("inclusion", readFinding(files, member, err, "SEAL_INVALID", where));
  }
  if (seal.record !== c.record) bad(`the seal object is for record ${seal.record}`, member);
  const named = (seal.events ?? []).join(" ");
  const listed = (c.events ?? []).map((e) => e.object).join(" ");
  if (named !== listed)
    out.add(
      "events",
      finding(
        "OBJECT_MISSING",
        "inclusion",
        `the seal names the events [${named}], the bundle carries [${listed}]`,
        out.where(member),
      ),
    );
}

/** One event's entry: readable, this event's, and included in the checkpoint. Its append time, or undefined. */
function eventEntry(ctx: EventsContext, c: Cycle, e: { object: string; seq: number }, out: EventFindings) {
  const member = eventFile(c.number, e.seq, "entry.json");
  const proofMember = eventFile(c.number, e.seq, "inclusion.json");
  const where = { ...out.where(member), entry: e.seq };
  const fail = (code: "ENTRY_MALFORMED" | "INCLUSION_INVALID" | "CHECKPOINT_INVALID", message: string) => {
    out.add("events", finding(code, "inclusion", message, where));
    return undefined;
  };
  let line: Buffer;
  let proof: InclusionFile;
  try {
    line = need(ctx.files, member);
    proof = parseJsonFile(ctx.files, proofMember, InclusionFile);
  } catch (err) {
    const m = ctx.files.has(member) ? proofMember : member;
    out.add("events", readFinding(ctx.files, m, err, "ENTRY_MALFORMED", out.where(m)));
    return undefined;
  }
  const entry = parseEntry(line);
  if (!entry || entry.kind !== "event" || entry.object !== e.object || entry.seq !== e.seq || !entry.time)
    return fail("ENTRY_MALFORMED", `${member} is not the entry of event ${e.object} at seq ${e.seq}`);
  if (!Buffer.from(canonicalBytes(proof)).equals(need(ctx.files, proofMember)))
    return fail("INCLUSION_INVALID", `${proofMember} is not canonical`);
  const cp = ctx.checkpoint;
  if (!cp)
    return fail(
      "CHECKPOINT_INVALID",
      "the bundle's checkpoint did not verify, so no inclusion can be proven",
    );
  const hashes = proof.hashes.map((h) => Buffer.from(h, "hex"));
  if (
    proof.index !== e.seq ||
    proof.size !== cp.size ||
    e.seq >= cp.size ||
    !verifyInclusion(e.seq, cp.size, leafHash(line), hashes, cp.root)
  )
    return fail("INCLUSION_INVALID", `entry ${e.seq} is not included in the signed checkpoint's tree`);
  return entry.time;
}

/** The event object: present, and the bytes its entry names. */
function eventJws(files: Files, e: { object: string }, out: EventFindings): string | undefined {
  const member = objectPath(e.object);
  const where = { ...out.where(member), object: e.object };
  const actual = sha256Of(files, member);
  if (!actual)
    out.add("events", finding("OBJECT_MISSING", "container", `event ${e.object} is missing`, where));
  else if (actual !== e.object.slice("sha256:".length))
    out.add(
      "events",
      finding("DIGEST_MISMATCH", "container", `event ${e.object} does not hash to its name`, where),
    );
  else return need(files, member).toString("utf8");
  return undefined;
}

export interface LedgerDecisions {
  /** What the chain judges: the verified decisions, ledger order, signedAt = the entry's time. */
  judged: VerifiedAssertion[];
  /** Why each decision event left out was left out, by its assertion's digest. */
  refused: Map<string, string>;
  /** The assertions the cycle's intact decision events name. */
  named: Set<string>;
}

/** A verified event's decision, as the chain judges it; a reason string when it is left out. */
async function decision(
  ctx: EventsContext,
  jws: string,
  time: string,
  r: PromotionRecord,
  policy: Policy,
): Promise<VerifiedAssertion | string | undefined> {
  const sealing = ctx.sealer ? [sha256hex(ctx.sealer)] : [];
  const v = await verifyEvent(jws, ctx.trust, { at: new Date(time), sealing });
  const e = v.event;
  if (e.model !== r.model.name || e.version !== r.model.version || e.cycle !== r.cycle.number)
    return `the event is about ${e.model} v${e.version} cycle ${e.cycle}`;
  if (e.actor !== "sealgate") {
    const wrong = actorMismatch(policy, v.signer, e.actor);
    if (wrong) return wrong;
  }
  if (!isDecision(e)) return undefined;
  const approval = await verifyApproval(need(ctx.files, objectPath(e.assertion)).toString("utf8"), ctx.trust);
  const wrong = assertionMismatch(e, approval, v.signer.fingerprint);
  if (wrong) return wrong;
  return { ...approval, assertion: { ...approval.assertion, signedAt: time } };
}

/**
 * The cycle's decisions from its events, for the chain; undefined for a tag-carried cycle (no
 * events), which is judged by its approvals' signed times as before.
 */
export async function ledgerDecisions(
  ctx: EventsContext,
  c: Cycle,
  r: PromotionRecord,
  policy: Policy,
  out: EventFindings,
): Promise<LedgerDecisions | undefined> {
  if (!c.events) return undefined;
  const found: LedgerDecisions = { judged: [], refused: new Map(), named: new Set() };
  let last = -1;
  for (const e of c.events) {
    if (e.seq <= last)
      out.add(
        "events",
        finding("ENTRY_SEQUENCE", "inclusion", `event at seq ${e.seq} is listed after seq ${last}`, {
          ...out.where(eventFile(c.number, e.seq, "entry.json")),
          entry: e.seq,
        }),
      );
    last = Math.max(last, e.seq);
    const time = eventEntry(ctx, c, e, out);
    const jws = eventJws(ctx.files, e, out);
    if (!time || jws === undefined) continue;
    const event = peekEvent(jws);
    const assertion = typeof event !== "string" && isDecision(event) ? event.assertion : e.object;
    if (assertion !== e.object) found.named.add(assertion);
    try {
      const d = await decision(ctx, jws, time, r, policy);
      if (typeof d === "string") found.refused.set(assertion, `event #${e.seq}: ${d}`);
      else if (d) found.judged.push(d);
    } catch (err) {
      const code = (err as { code?: string }).code ?? "INVALID";
      found.refused.set(assertion, `event #${e.seq}: ${code}: ${(err as Error).message}`);
    }
  }
  return found;
}
