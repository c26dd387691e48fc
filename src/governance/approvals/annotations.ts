import { authority } from "../../policy/chain.js";
import type { Policy } from "../../policy/schema.js";
import type { Trust } from "../../crypto/pki/trust.js";
import type { Annotation } from "../../record/schema.js";
import { verifyAnnotation } from "../../crypto/sign/annotation.js";
import type { EvidenceStore } from "../../evidence/store/evidence-store.js";
import { ANNOTATION_TAG_PREFIX, readApprovalTags } from "./approval-tags.js";

/*
 * Reviewer comments found on a version's tags, re-verified like approvals. Only comments on the
 * package being sealed, by someone the approver registry names (in any role, at the time they
 * signed), become part of the record; the rest are reported with the reason.
 */

export async function collectAnnotations(
  tags: Record<string, string>,
  o: {
    store: EvidenceStore;
    trust: Trust;
    policy: Policy;
    model: string;
    version: string;
    packageDigest: string;
  },
): Promise<{ annotations: Annotation[]; refused: string[] }> {
  const annotations: Annotation[] = [];
  const refused: string[] = [];
  for (const { key, jws } of await readApprovalTags(tags, o.store, ANNOTATION_TAG_PREFIX)) {
    try {
      const v = await verifyAnnotation(jws, o.trust);
      const a = v.assertion;
      if (a.model !== o.model || a.version !== o.version)
        throw new Error(`signed for ${a.model} v${a.version}`);
      if (a.packageDigest !== o.packageDigest) {
        refused.push(`${key}: comment on an earlier package ${a.packageDigest}, kept out of this record`);
        continue;
      }
      const roles = o.policy.approvers.flatMap((x) => x.roles);
      if (!roles.some((r) => authority(o.policy, v.identity, r, new Date(a.signedAt))))
        throw new Error(`${v.identity.email} is not a registered reviewer`);
      annotations.push({
        section: a.section,
        kind: a.kind,
        text: a.text,
        signedAt: a.signedAt,
        identity: v.identity,
        assertion: await o.store.put(Buffer.from(jws, "utf8")),
      });
    } catch (err) {
      refused.push(
        `${key}: refused (${(err as { code?: string }).code ?? "INVALID"}): ${(err as Error).message}`,
      );
    }
  }
  annotations.sort((x, y) => x.signedAt.localeCompare(y.signedAt) || x.assertion.localeCompare(y.assertion));
  return { annotations, refused };
}
