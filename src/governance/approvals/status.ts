import { SealgateError } from "../../core/errors.js";
import type { Trust } from "../../crypto/pki/trust.js";
import { verifyApproval } from "../../crypto/sign/approval.js";
import type { EvidenceStore } from "../../evidence/store/evidence-store.js";
import { isDigest } from "../../core/digest.js";
import { type ChainResult, evaluateChain, type VerifiedAssertion } from "../../policy/chain.js";
import type { Policy } from "../../policy/schema.js";
import { ReviewPackage } from "../../record/schema.js";
import type { SourceVersion } from "../../source/registry-source.js";
import { shownReviewPdf, signedShownPdf } from "./review-pdf.js";
import { TAGS } from "../cycle/tags.js";
import { readApprovalTags } from "./approval-tags.js";
import type { LedgerReader } from "../../evidence/ledger/ledger.js";
import { cycleApprovals } from "../events/cycle-approvals.js";

/*
 * Where a version's review cycle stands, as `approve`, `pending` and `sync` report it: the
 * package under review, its decisions (from the ledger's events when the cycle has any and the
 * caller passes the ledger, else the approvals its tags carry; verified, the rest refused), the
 * chain walked over them, and since when the next role has been waited for.
 */

export interface StatusDeps {
  store: EvidenceStore;
  trust: Trust;
  policy: Policy;
  /**
   * The ledger, read without its lock: with it, a cycle with decision events is judged from them
   * (ledger order, append times) as the sealer will; without it, or for a tag-carried cycle, from tags.
   */
  ledger?: LedgerReader;
}

export interface VersionStatus {
  model: string;
  version: string;
  packageDigest: string;
  pkg: ReviewPackage;
  verified: VerifiedAssertion[];
  result: ChainResult;
  /** The last counted decision's signing time, or when the package was assembled. */
  waitingSince: string;
}

/** Who may not approve a version: the policy's owners and the version's registrant. */
export function conflictedParties(policy: Policy, mv: Pick<SourceVersion, "createdBy">): string[] {
  return [...policy.owners, ...(mv.createdBy ? [mv.createdBy] : [])];
}

/** The review package a version's tag names; it must be a package of this very version. */
export async function readReviewPackage(
  store: EvidenceStore,
  digest: string,
  model: string,
  version: string,
): Promise<ReviewPackage> {
  // The tag is untrusted: anything but a digest of a stored package is refused.
  if (!isDigest(digest))
    throw new SealgateError(
      "GOVERNANCE_INCOMPLETE",
      `the package tag of ${model} v${version} is not a digest`,
    );
  if (!(await store.has(digest)))
    throw new SealgateError(
      "OBJECT_MISSING",
      `review package ${digest} of ${model} v${version} is not in this evidence store: point store.path at the store that reviewed it`,
    );
  let raw: unknown;
  try {
    raw = JSON.parse(Buffer.from(await store.get(digest)).toString("utf8"));
  } catch {
    raw = undefined;
  }
  const parsed = ReviewPackage.safeParse(raw);
  if (!parsed.success)
    throw new SealgateError("OBJECT_CORRUPT", `review package ${digest} is not a valid package`);
  if (parsed.data.model.name !== model || parsed.data.model.version !== version)
    throw new SealgateError(
      "GOVERNANCE_INCOMPLETE",
      `the package tag of ${model} v${version} names ${parsed.data.model.name} v${parsed.data.model.version}`,
    );
  return parsed.data;
}

/** Every approval the tags carry for this version that verifies; the others are left out here. */
export async function verifiedApprovals(
  d: StatusDeps,
  tags: Record<string, string>,
  model: string,
  version: string,
): Promise<VerifiedAssertion[]> {
  const out: VerifiedAssertion[] = [];
  for (const { jws } of await readApprovalTags(tags, d.store)) {
    const v = await verifyApproval(jws, d.trust).catch(() => undefined);
    if (v && v.assertion.model === model && v.assertion.version === version) out.push(v);
  }
  return out;
}

/** The cycle status of a version under review; null when it has no review package. */
export async function versionStatus(
  d: StatusDeps,
  mv: SourceVersion,
  now: Date,
): Promise<VersionStatus | null> {
  const packageDigest = mv.tags[TAGS.package];
  if (!packageDigest) return null;
  const pkg = await readReviewPackage(d.store, packageDigest, mv.model, mv.version);
  const fromLedger = d.ledger
    ? await cycleApprovals(
        { ledger: d.ledger, store: d.store, trust: d.trust, policy: d.policy, sealing: [] },
        { model: mv.model, version: mv.version, cycle: pkg.cycle.number },
      )
    : null;
  // As the sealer will: a decision naming a review PDF other than the one shown does not count.
  const { verified } = signedShownPdf(
    fromLedger?.judged ?? (await verifiedApprovals(d, mv.tags, mv.model, mv.version)),
    await shownReviewPdf(d.store, mv),
    packageDigest,
  );
  const result = evaluateChain(verified, {
    policy: d.policy,
    chain: pkg.materiality.chain,
    packageDigest,
    conflicted: conflictedParties(d.policy, mv),
    now,
  });
  const last = result.counted.at(-1)?.assertion.signedAt;
  return {
    model: mv.model,
    version: mv.version,
    packageDigest,
    pkg,
    verified,
    result,
    waitingSince: last && last > pkg.observedAt ? last : pkg.observedAt,
  };
}

/** "waiting for ROLE since TIME", or what else the cycle waits on. */
export function describeWait(s: Pick<VersionStatus, "result" | "waitingSince">): string {
  const { state, nextRole } = s.result;
  if (state === "pending_review" && nextRole) return `waiting for ${nextRole} since ${s.waitingSince}`;
  if (state === "changes_requested")
    return `changes requested since ${s.waitingSince}: waiting for the ML team to resubmit (sealgate review)`;
  return `${state.replace("_", " ")}: no role is awaited`;
}
