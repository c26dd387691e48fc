import { createHash } from "node:crypto";
import { isDigest } from "../../core/digest.js";
import type { RegistrySource } from "../../source/registry-source.js";
import type { EvidenceStore } from "../../evidence/store/evidence-store.js";

/*
 * Approvals travel through the registry as model-version tags, one per assertion:
 * `sealgate.approval.<first 16 hex of SHA-256(JWS)>` = the compact JWS, or, when longer than
 * the tag limit, the `sha256:` digest of the JWS stored as an object. The tag is a carrier,
 * not evidence: every assertion is re-verified at seal time, so a hand-edited tag is refused.
 */

export const APPROVAL_TAG_PREFIX = "sealgate.approval.";
/** Signed comments and clarification requests travel the same way under their own prefix. */
export const ANNOTATION_TAG_PREFIX = "sealgate.comment.";
/**
 * The mirror of a statement's ledger event: `sealgate.events.<the same 16 hex>` = the event's
 * digest, written beside the statement's own tag once the event is in the ledger. Like every tag
 * it is never trusted: the sealer reads events from the ledger, not from here.
 */
export const EVENT_MIRROR_PREFIX = "sealgate.events.";

export async function writeApprovalTag(
  source: Pick<RegistrySource, "setTags">,
  store: EvidenceStore,
  model: string,
  version: string,
  jws: string,
  limit: number,
  prefix = APPROVAL_TAG_PREFIX,
  eventDigest?: string,
): Promise<{ key: string; value: string; mirror?: string }> {
  const id = createHash("sha256").update(jws).digest("hex").slice(0, 16);
  const key = `${prefix}${id}`;
  const value = jws.length <= limit ? jws : await store.put(Buffer.from(jws, "utf8"));
  const mirror = eventDigest ? `${EVENT_MIRROR_PREFIX}${id}` : undefined;
  await source.setTags(model, version, { [key]: value, ...(mirror ? { [mirror]: eventDigest! } : {}) });
  return { key, value, ...(mirror ? { mirror } : {}) };
}

/** Every approval JWS a version carries, resolving stored references. */
export async function readApprovalTags(
  tags: Record<string, string>,
  store: EvidenceStore,
  prefix = APPROVAL_TAG_PREFIX,
): Promise<{ key: string; jws: string }[]> {
  const out: { key: string; jws: string }[] = [];
  for (const [key, value] of Object.entries(tags)) {
    if (!key.startsWith(prefix)) continue;
    const jws = isDigest(value) ? Buffer.from(await store.get(value)).toString("utf8") : value;
    out.push({ key, jws });
  }
  return out;
}
