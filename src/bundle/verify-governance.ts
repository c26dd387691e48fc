import type { Trust } from "../crypto/pki/trust.js";
import { evaluateChain, type VerifiedAssertion } from "../policy/chain.js";
import { parsePolicy } from "../policy/schema.js";
import { canonicalBytes } from "../record/canonical.js";
import { type PromotionRecord, ReviewPackage } from "../record/schema.js";
import { verifyApproval } from "../crypto/sign/approval.js";
import { type Claim, checkClaim } from "./claims.js";
import { need, parseJsonFile, tailOf } from "./facts.js";
import { documentIdOf, pdfId } from "../crypto/sign/pdf-id.js";
import { type BundleIndex, objectPath } from "./layout.js";
import { digestOf } from "../core/digest.js";

/*
 * The governance claims of one cycle: the review package is the one the record describes, each
 * approver's e-signature verifies and is the record's, and the sealed policy, re-run over the
 * verified approvals, reaches the record's decision with exactly the record's approvals.
 */

export async function verifyGovernance(
  files: ReadonlyMap<string, Uint8Array>,
  trust: Trust,
  c: BundleIndex["cycles"][number],
  record: PromotionRecord | undefined,
): Promise<Claim[]> {
  const claims: Claim[] = [];
  const id = (s: string) => `cycle-${c.number}.${s}`;
  const label = `cycle ${c.number}:`;
  const rec = record ? { record } : undefined;
  const at = new Date(record?.sealedAt ?? NaN);
  await checkClaim(
    claims,
    id("package"),
    `${label} the review package the approvers signed matches the record`,
    (fail) => {
      if (!rec) return fail("no readable record");
      const r = rec.record;
      const pkg = parseJsonFile(files, objectPath(r.package), ReviewPackage);
      const { type: _t, ...fields } = pkg;
      const fromRecord = Object.fromEntries(Object.keys(fields).map((k) => [k, r[k as keyof typeof r]]));
      if (!Buffer.from(canonicalBytes(fields)).equals(Buffer.from(canonicalBytes(fromRecord))))
        fail("the package's fields differ from the record's");
      if (c.reviewPdf && pdfId(tailOf(files, objectPath(c.reviewPdf))) !== documentIdOf(r.package))
        fail("the review PDF's document ID is not this package's digest");
    },
  );
  const verified: VerifiedAssertion[] = [];
  await checkClaim(
    claims,
    id("approvals"),
    `${label} every approver's signature verifies and matches the record`,
    async (fail) => {
      if (!rec) return fail("no readable record");
      const r = rec.record;
      for (const [i, a] of r.approvals.entries()) {
        try {
          const v = await verifyApproval(need(files, objectPath(a.assertion)).toString("utf8"), trust);
          const s = v.assertion;
          if (s.packageDigest !== r.package)
            fail(`approval ${i + 1}: signed package ${s.packageDigest}, not ${r.package}`);
          if (s.model !== r.model.name || s.version !== r.model.version)
            fail(`approval ${i + 1}: signed for ${s.model} v${s.version}`);
          if (s.role !== a.role || s.decision !== a.decision || s.signedAt !== a.signedAt)
            fail(`approval ${i + 1}: role, decision or time differ from the record`);
          if (!Buffer.from(canonicalBytes(v.identity)).equals(Buffer.from(canonicalBytes(a.identity))))
            fail(`approval ${i + 1}: signer is not ${a.identity.email}`);
          verified.push(v);
        } catch (err) {
          fail(`approval ${i + 1} (${a.identity.email} as ${a.role}): ${(err as Error).message}`);
        }
      }
    },
  );
  await checkClaim(
    claims,
    id("order"),
    `${label} the approvals came in the order, and from the people, the sealed policy requires`,
    (fail) => {
      if (!rec) return fail("no readable record");
      const r = rec.record;
      const policy = parsePolicy(
        need(files, objectPath(r.policy.digest)),
        objectPath(r.policy.digest),
      ).policy;
      const result = evaluateChain(verified, {
        policy,
        chain: r.materiality.chain,
        packageDigest: r.package,
        conflicted: policy.owners,
        now: at,
      });
      if (result.state !== r.decision)
        fail(`the policy's chain gives ${result.state.replace("_", " ")}, the record says ${r.decision}`);
      for (const i of result.ignored)
        fail(`${i.approval.identity.email} as ${i.approval.assertion.role}: ${i.reason}`);
      const counted = result.counted.map((a) => digestOf(Buffer.from(a.jws)));
      if (JSON.stringify(counted) !== JSON.stringify(r.approvals.map((a) => a.assertion)))
        fail("the approvals counted by the policy are not the record's approvals in order");
    },
  );
  return claims;
}
