import { type Finding, finding, findingOf, type Where } from "../evidence/verify/findings.js";
import { evaluateChain, type VerifiedAssertion } from "../policy/chain.js";
import { parsePolicy } from "../policy/schema.js";
import { canonicalBytes } from "../record/canonical.js";
import { type PromotionRecord, ReviewPackage } from "../record/schema.js";
import type { VerifiedApproval } from "../crypto/sign/approval.js";
import { readFinding } from "./claims.js";
import { need, parseJsonFile, tailOf } from "./facts.js";
import { documentIdOf, pdfId } from "../crypto/sign/pdf-id.js";
import { type BundleIndex, cycleFile, objectPath } from "./layout.js";
import { digestOf } from "../core/digest.js";
import {
  type EventsContext,
  type LedgerDecisions,
  ledgerDecisions,
  verifySealObject,
} from "./verify-events.js";

/*
 * The governance claims of one cycle, which only a bundle can check: the review package is the
 * one the record describes, each approval says what the record says it does, and the sealed
 * policy, re-run over the approvals, reaches the record's decision with exactly the record's
 * approvals. Whether each approval's signature verifies is the Verifier's finding.
 */

/** Where the governance findings go: the cycle's package, approvals and order claims. */
export interface GovernanceFindings {
  add(kind: "package" | "approvals" | "order" | "events" | "inclusion" | "objects", f: Finding): void;
  where(member: string): Where;
}

const same = (a: unknown, b: unknown) =>
  Buffer.from(canonicalBytes(a)).equals(Buffer.from(canonicalBytes(b)));

function reviewPackage(
  files: ReadonlyMap<string, Uint8Array>,
  c: BundleIndex["cycles"][number],
  r: PromotionRecord,
  out: GovernanceFindings,
) {
  const member = objectPath(r.package);
  const mismatch = (message: string, where = out.where(member)) =>
    out.add("package", finding("PACKAGE_MISMATCH", "policy", message, where));
  let pkg: ReviewPackage;
  try {
    pkg = parseJsonFile(files, member, ReviewPackage);
  } catch (err) {
    return out.add("package", readFinding(files, member, err, "PACKAGE_MISMATCH", out.where(member)));
  }
  const { type: _t, ...fields } = pkg;
  const fromRecord = Object.fromEntries(Object.keys(fields).map((k) => [k, r[k as keyof typeof r]]));
  if (!same(fields, fromRecord)) mismatch("the package's fields differ from the record's");
  if (!c.reviewPdf) return;
  const pdf = objectPath(c.reviewPdf);
  let id: string | undefined;
  try {
    id = pdfId(tailOf(files, pdf));
  } catch (err) {
    return out.add("package", readFinding(files, pdf, err, "PACKAGE_MISMATCH", out.where(pdf)));
  }
  if (id !== documentIdOf(r.package))
    mismatch("the review PDF's document ID is not this package's digest", out.where(pdf));
}

/**
 * What each approval says, and who its certificate names, against the record. The Verifier
 * judged each signature and hands over the approvals it accepted, at the record's index (one
 * that did not verify is its finding, not repeated here), for the record and the policy.
 */
function readApprovals(
  accepted: readonly (VerifiedApproval | undefined)[],
  r: PromotionRecord,
  reviewPdf: string | undefined,
  out: GovernanceFindings,
): VerifiedAssertion[] {
  const verified: VerifiedAssertion[] = [];
  for (const [i, a] of r.approvals.entries()) {
    const where = out.where(objectPath(a.assertion));
    const mismatch = (message: string) =>
      out.add("approvals", finding("APPROVAL_MISMATCH", "policy", `approval ${i + 1}: ${message}`, where));
    const v = accepted[i];
    if (!v) continue;
    const s = v.assertion;
    if (s.packageDigest !== r.package) mismatch(`signed package ${s.packageDigest}, not ${r.package}`);
    if (s.model !== r.model.name || s.version !== r.model.version)
      mismatch(`signed for ${s.model} v${s.version}`);
    if (s.role !== a.role || s.decision !== a.decision || s.signedAt !== a.signedAt)
      mismatch("role, decision or time differ from the record");
    if (s.reviewPdf !== undefined && s.reviewPdf !== reviewPdf)
      mismatch(
        `signed review PDF ${s.reviewPdf}, not the bundle's review PDF ${reviewPdf ?? "(none carried)"}`,
      );
    if (!same(v.identity, a.identity)) mismatch(`signer is not ${a.identity.email}`);
    verified.push(v);
  }
  return verified;
}

/**
 * The sealed policy, re-run over the approvals, gives the record's decision and counts its
 * approvals. A ledger-judged cycle is re-run over its decision events as the sealer ran it
 * (verify-events.ts); there the chain may rightly ignore a decision (one after a rejection, say).
 */
async function approvalOrder(
  ctx: EventsContext,
  c: BundleIndex["cycles"][number],
  r: PromotionRecord,
  verified: VerifiedAssertion[],
  out: GovernanceFindings,
) {
  const { files } = ctx;
  const member = objectPath(r.policy.digest);
  const mismatch = (message: string) =>
    out.add("order", finding("POLICY_MISMATCH", "policy", message, out.where(member)));
  let policy: ReturnType<typeof parsePolicy>["policy"];
  try {
    policy = parsePolicy(need(files, member), member).policy;
  } catch (err) {
    return out.add("order", readFinding(files, member, err, "POLICY_MISMATCH", out.where(member), "policy"));
  }
  const ledger = await ledgerDecisions(ctx, c, r, policy, out);
  if (ledger) ledgerApprovals(r, ledger, out);
  let result: ReturnType<typeof evaluateChain>;
  try {
    result = evaluateChain(ledger?.judged ?? verified, {
      policy,
      chain: r.materiality.chain,
      packageDigest: r.package,
      conflicted: policy.owners,
      now: new Date(r.sealedAt),
    });
  } catch (err) {
    return out.add("order", findingOf(err, "policy", out.where(member), "POLICY_MISMATCH"));
  }
  if (result.state !== r.decision)
    mismatch(`the policy's chain gives ${result.state.replace("_", " ")}, the record says ${r.decision}`);
  for (const i of ledger ? [] : result.ignored)
    mismatch(`${i.approval.identity.email} as ${i.approval.assertion.role}: ${i.reason}`);
  const counted = result.counted.map((a) => digestOf(Buffer.from(a.jws)));
  if (JSON.stringify(counted) !== JSON.stringify(r.approvals.map((a) => a.assertion)))
    mismatch("the approvals counted by the policy are not the record's approvals in order");
}

/** Each of the record's approvals is a decision event of the cycle that verified. */
function ledgerApprovals(r: PromotionRecord, ledger: LedgerDecisions, out: GovernanceFindings) {
  for (const [i, a] of r.approvals.entries()) {
    const where = out.where(objectPath(a.assertion));
    const refused = ledger.refused.get(a.assertion);
    if (refused)
      out.add("events", finding("APPROVAL_INVALID", "policy", `approval ${i + 1}: ${refused}`, where));
    else if (!ledger.named.has(a.assertion))
      out.add(
        "events",
        finding(
          "APPROVAL_MISMATCH",
          "policy",
          `approval ${i + 1} is named by none of the cycle's events`,
          where,
        ),
      );
  }
}

export async function verifyGovernance(
  ctx: EventsContext,
  approvals: readonly (VerifiedApproval | undefined)[],
  c: BundleIndex["cycles"][number],
  record: PromotionRecord | undefined,
  out: GovernanceFindings,
): Promise<void> {
  const { files } = ctx;
  verifySealObject(files, c, out);
  if (!record) {
    const where = out.where(cycleFile(c.number, "record.json"));
    for (const kind of ["package", "approvals", "order"] as const)
      out.add(
        kind,
        finding("RECORD_INVALID", "container", "no readable record (see the record claim)", where),
      );
    return;
  }
  reviewPackage(files, c, record, out);
  await approvalOrder(ctx, c, record, readApprovals(approvals, record, c.reviewPdf, out), out);
}
