import { type Digest, isDigest } from "../../core/digest.js";
import type { EvidenceStore } from "../../evidence/store/evidence-store.js";
import { storedPdfOf } from "../../evidence/store/stored-pdf.js";
import type { VerifiedAssertion } from "../../policy/chain.js";
import type { SourceVersion } from "../../source/registry-source.js";
import { TAGS } from "../cycle/tags.js";

/*
 * Approvers saw what they signed: a decision may name the review PDF its signer was shown, and
 * then counts only if that is the package's review PDF (the one the seal object names), so the
 * document an approver signed off is the one auditors open. `approve` and the sealer apply the
 * same rule, so approve never accepts what the seal would leave out.
 */

/**
 * The review PDF this version's package was shown in: the registry's tag names it (untrusted),
 * so it counts only when the store holds that object and its document ID is the package's.
 */
export async function shownReviewPdf(
  store: Pick<EvidenceStore, "get">,
  mv: Pick<SourceVersion, "tags">,
): Promise<Digest | undefined> {
  const pdf = mv.tags[TAGS.packagePdf];
  const pkg = mv.tags[TAGS.package];
  if (!isDigest(pdf) || !pkg) return undefined;
  return (await storedPdfOf(store, pdf, pkg)) ? pdf : undefined;
}

/**
 * The decisions that count (naming no review PDF, or the one shown), and why each other does not.
 * A decision over another package passes through: the chain calls it stale, the clearer reason.
 */
export function signedShownPdf(
  verified: VerifiedAssertion[],
  shown: string | undefined,
  packageDigest: string,
): { verified: VerifiedAssertion[]; refused: string[] } {
  const ok: VerifiedAssertion[] = [];
  const refused: string[] = [];
  for (const a of verified) {
    const signed = a.assertion.reviewPdf;
    if (signed === undefined || signed === shown || a.assertion.packageDigest !== packageDigest) ok.push(a);
    else
      refused.push(
        `${a.identity.email} as ${a.assertion.role}: signed review PDF ${signed}, not the package's review PDF ${shown ?? "(none recorded)"}`,
      );
  }
  return { verified: ok, refused };
}
