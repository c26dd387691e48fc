import { SealgateError } from "../../core/errors.js";
import type { Ledger } from "../../evidence/ledger/ledger.js";
import { type CycleState, evaluateChain, type VerifiedAssertion } from "../../policy/chain.js";
import type { LoadedPolicy } from "../../policy/schema.js";
import type { Trust } from "../../crypto/pki/trust.js";
import { canonicalBytes } from "../../record/canonical.js";
import {
  PromotionRecord,
  RECORD_JWS_TYP,
  type RecordDecision,
  recordBytes,
  ReviewPackage,
} from "../../record/schema.js";
import { verifyApproval } from "../../crypto/sign/approval.js";
import { signCmsDetached } from "../../crypto/sign/cms.js";
import { signJws } from "../../crypto/sign/jws.js";
import type { Signer } from "../../crypto/sign/signer.js";
import { storedPdfOf } from "../../evidence/store/stored-pdf.js";
import { signedShownPdf } from "../approvals/review-pdf.js";
import type { EvidenceStore } from "../../evidence/store/evidence-store.js";
import { type Digest, digestOf, isDigest } from "../../core/digest.js";
import { collectAnnotations } from "../approvals/annotations.js";
import { ANNOTATION_TAG_PREFIX, readApprovalTags } from "../approvals/approval-tags.js";
import { cycleApprovals } from "../events/cycle-approvals.js";
import { fingerprint } from "../../crypto/pki/x509.js";
import { expiryReasons } from "../../policy/conditions.js";
import { recordExpiry } from "../events/expiry.js";
import { renderSealedPdf } from "./seal-pdf.js";
import type { SealEntry, SealIndex } from "../../evidence/store/seal-index.js";
import { finishLedgering, storeSealObject } from "./seal-recovery.js";
import { TAGS } from "../cycle/tags.js";
import { ModelManifest } from "../../source/digest/model.js";
import { signModel } from "../../source/digest/model-signature.js";
import type { RegistrySource, SourceVersion } from "../../source/registry-source.js";

/*
 * The sealer: for a version with a review package, take the cycle's decisions from its ledger
 * events (events/cycle-approvals.ts: ledger order, judged at each entry's append time), or, for
 * a cycle with no events (stores and approvals from before events), verify every approval
 * carried in its tags; walk the policy's chain, and when the cycle completes (approved or rejected) seal it: store
 * the record and its signatures (JWS, CMS, signed PDF) and its seal object (which names them,
 * the review package and the policy), append record and seal to the ledger, then point
 * the registry at it. Idempotent: a package is sealed once, also across a crash; the order of
 * the commit and how each crash point recovers are in seal-recovery.ts.
 */

export interface SealerDeps {
  source: RegistrySource;
  store: EvidenceStore;
  ledger: Ledger;
  index: SealIndex;
  policy: LoadedPolicy;
  trust: Trust;
  signer: Signer;
  now?: () => Date;
}

export type SealOutcome =
  | { outcome: "sealed" | "already-sealed"; record: string; decision: RecordDecision }
  | { outcome: "waiting"; state: CycleState; nextRole: string | null; ignored: string[] }
  | { outcome: "no-package" | "pre-discipline" };

export interface StoredSeal {
  digest: Digest;
  jws: string;
  p7s: string;
  pdf: string;
}

/**
 * Store a record and its three seals: the RFC 8785 bytes, the JWS, the CMS and the signed PDF.
 * The four are independent, so their writes (each fsynced) overlap with signing and rendering.
 */
export async function storeSealedRecord(
  d: Pick<SealerDeps, "store" | "signer">,
  record: PromotionRecord,
  counted: VerifiedAssertion[],
  thresholds: Record<string, { min?: number; max?: number }>,
): Promise<StoredSeal> {
  const bytes = recordBytes(record);
  const digest = digestOf(bytes);
  const [, jws, p7s, pdf] = await Promise.all([
    d.store.put(bytes),
    signJws(bytes, d.signer, RECORD_JWS_TYP).then((j) => d.store.put(canonicalBytes(j, "record JWS"))),
    signCmsDetached(bytes, d.signer, new Date(record.sealedAt)).then((c) => d.store.put(c)),
    renderSealedPdf(d.store, d.signer, record, digest, bytes, counted, thresholds).then((p) =>
      d.store.put(p),
    ),
  ]);
  return { digest, jws, p7s, pdf };
}

/**
 * The review PDF the registry's tag names, recorded in the index for export when `review` did
 * not (stores reviewed before it did). The tag is untrusted: it counts only if the store holds
 * that object and its document ID is the package's.
 */
async function recordReviewPdf(d: SealerDeps, pkg: string, pdf: string | undefined): Promise<void> {
  if (!isDigest(pdf) || d.index.reviewPdf(pkg) === pdf) return;
  if (await storedPdfOf(d.store, pdf, pkg)) await d.index.addReviewPdf({ package: pkg, pdf });
}

/** Finish or acknowledge an earlier seal of this very package (crash between steps included). */
async function finishEarlierSeal(
  d: SealerDeps,
  done: SealEntry,
  model: string,
  version: string,
  now: Date,
): Promise<SealOutcome> {
  const sealed = PromotionRecord.parse(
    JSON.parse(Buffer.from(await d.store.get(done.record as never)).toString()),
  );
  await finishLedgering(d, done, sealed.policy.digest);
  // An approval whose expiry or re-review date has passed is an expiry event in the ledger (once)
  // and shows as expired in the registry.
  const lapsed = expiryReasons(sealed, now);
  if (lapsed.length) await recordExpiry(d, sealed, done.record as Digest, lapsed, now);
  const state = lapsed.length ? "expired" : done.decision;
  await d.source.setTags(model, version, { [TAGS.event]: done.record, [TAGS.state]: state });
  return { outcome: "already-sealed", record: done.record, decision: done.decision };
}

/** The review package the version's tag names, which must be for this very version. */
async function readPackage(d: SealerDeps, pkgDigest: string, model: string, version: string) {
  const parsed = ReviewPackage.safeParse(
    JSON.parse(Buffer.from(await d.store.get(pkgDigest as never)).toString("utf8")),
  );
  if (!parsed.success)
    throw new SealgateError("OBJECT_CORRUPT", `review package ${pkgDigest} is not a valid package`);
  const pkg = parsed.data;
  if (pkg.model.name !== model || pkg.model.version !== version) {
    throw new SealgateError(
      "GOVERNANCE_INCOMPLETE",
      `the package tag of ${model} v${version} names ${pkg.model.name} v${pkg.model.version}`,
    );
  }
  return pkg;
}

/** Every approval the tags carry, verified; the ones refused, each with why. */
async function verifyApprovalTags(
  d: SealerDeps,
  tags: Record<string, string>,
  model: string,
  version: string,
) {
  const verified: VerifiedAssertion[] = [];
  const refused: string[] = [];
  for (const { key, jws } of await readApprovalTags(tags, d.store)) {
    try {
      const v = await verifyApproval(jws, d.trust);
      if (v.assertion.model !== model || v.assertion.version !== version)
        throw new Error(`signed for ${v.assertion.model} v${v.assertion.version}`);
      verified.push(v);
    } catch (err) {
      refused.push(
        `${key}: refused (${(err as { code?: string }).code ?? "INVALID"}): ${(err as Error).message}`,
      );
    }
  }
  return { verified, refused };
}

/**
 * The cycle's decisions and comments: from the ledger's events when the cycle has any (then the
 * tags are not read at all), else from the tags (`tagCarried`). For ledger decisions the chain
 * sees each assertion with the append time as its signedAt; `asSigned` maps back to the signed one.
 */
async function cycleInputs(d: SealerDeps, mv: SourceVersion, pkg: ReviewPackage) {
  const { model, version, tags } = mv;
  const ledger = await cycleApprovals(
    {
      ledger: d.ledger,
      store: d.store,
      trust: d.trust,
      policy: d.policy.policy,
      sealing: [await fingerprint(d.signer.chain[0]!)],
    },
    { model, version, cycle: pkg.cycle.number },
  );
  if (!ledger) {
    const { verified, refused } = await verifyApprovalTags(d, tags, model, version);
    return { verified, refused, annotationTags: tags, asSigned: undefined, events: undefined };
  }
  // The annotations the events name, in the form collectAnnotations reads (digests of stored JWS).
  const annotationTags = Object.fromEntries(
    ledger.annotations.map((digest, i) => [`${ANNOTATION_TAG_PREFIX}event-${i}`, digest]),
  );
  return {
    verified: ledger.judged,
    refused: ledger.refused,
    annotationTags,
    asSigned: ledger.asSigned,
    events: ledger.events,
  };
}

/** Walk the policy's chain over the verified approvals, and collect the signed comments. */
async function evaluate(d: SealerDeps, mv: SourceVersion, pkg: ReviewPackage, pkgDigest: string, now: Date) {
  const { model, version } = mv;
  const inputs = await cycleInputs(d, mv, pkg);
  const { annotationTags, asSigned, events } = inputs;
  const shown = signedShownPdf(inputs.verified, d.index.reviewPdf(pkgDigest), pkgDigest);
  const { verified } = shown;
  const refused = [...inputs.refused, ...shown.refused];
  const result = evaluateChain(verified, {
    policy: d.policy.policy,
    chain: pkg.materiality.chain,
    packageDigest: pkgDigest,
    conflicted: [...d.policy.policy.owners, ...(mv.createdBy ? [mv.createdBy] : [])],
    now,
  });
  const notes = await collectAnnotations(annotationTags, {
    store: d.store,
    trust: d.trust,
    policy: d.policy.policy,
    model,
    version,
    packageDigest: pkgDigest,
  });
  const ignored = [
    ...refused,
    ...notes.refused,
    ...result.ignored.map((i) => `${i.approval.identity.email} as ${i.approval.assertion.role}: ${i.reason}`),
  ];
  // The record and its PDF show each decision as its signer signed it.
  const counted = asSigned ? result.counted.map((a) => asSigned.get(a.jws) ?? a) : result.counted;
  return { result, counted, notes, ignored, events };
}

type Evaluation = Awaited<ReturnType<typeof evaluate>>;

/** The promotion record of a completed cycle: the package's fields, the approvals, the decision. */
async function buildRecord(
  d: SealerDeps,
  pkg: ReviewPackage,
  pkgDigest: string,
  { counted, notes }: Evaluation,
  decision: RecordDecision,
  now: Date,
): Promise<PromotionRecord> {
  const approvals = await Promise.all(
    counted.map(async (a) => ({
      role: a.assertion.role,
      decision: a.assertion.decision,
      signedAt: a.assertion.signedAt,
      identity: a.identity,
      assertion: await d.store.put(Buffer.from(a.jws, "utf8")),
    })),
  );
  const { type: _type, ...fields } = pkg;
  return {
    ...fields,
    type: "sealgate.promotion-record/1",
    package: pkgDigest,
    approvals,
    decision,
    conditions: [...new Set(counted.flatMap((a) => a.assertion.conditions))],
    annotations: notes.annotations,
    sealedAt: now.toISOString(),
  };
}

/**
 * The approved model's files signed the OpenSSF model-signing way (FORMAT section 12.1), from the
 * sealed manifest, so `model_signing verify certificate` checks the deployed bytes. model_signing
 * verifies ECDSA only: with an RSA sealing key there is none, and the seal object says so by
 * lacking it.
 */
async function storeModelSignature(
  d: Pick<SealerDeps, "store" | "signer">,
  record: PromotionRecord,
): Promise<Digest | undefined> {
  if (d.signer.algorithm !== "ES256" && d.signer.algorithm !== "ES384") return undefined;
  const manifest = ModelManifest.parse(
    JSON.parse(Buffer.from(await d.store.get(record.model.manifest as Digest)).toString("utf8")),
  );
  const name = `${record.model.name}/${record.model.version}`;
  return d.store.put(canonicalBytes(await signModel(manifest, name, d.signer), "model signature"));
}

/** Store the record, its seals and its seal object, then commit in the order seal-recovery.ts documents. */
async function commitSeal(
  d: SealerDeps,
  pkg: ReviewPackage,
  record: PromotionRecord,
  counted: VerifiedAssertion[],
  model: string,
  version: string,
  events?: Digest[],
): Promise<SealOutcome> {
  // The policy that routed and judged this cycle, by the digest the record names: the policy
  // file's exact bytes (policy/schema.ts parsePolicy), which is what is stored.
  if (digestOf(d.policy.bytes) !== record.policy.digest)
    throw new SealgateError("CONFIG_INVALID", "the loaded policy's bytes do not match its digest");
  const [policy, { digest, jws, p7s, pdf }, pkgStored] = await Promise.all([
    d.store.put(d.policy.bytes),
    storeSealedRecord(d, record, counted, d.policy.policy.thresholds),
    d.store.put(canonicalBytes(ReviewPackage.parse(pkg), "review package")),
  ]);
  const { package: pkgDigest, decision } = record;
  if (pkgStored !== pkgDigest)
    throw new SealgateError("OBJECT_CORRUPT", `review package ${pkgDigest} is not canonical (${pkgStored})`);
  const modelSignature = decision === "approved" ? await storeModelSignature(d, record) : undefined;
  const reviewPdf = d.index.reviewPdf(pkgDigest);
  const entry: SealEntry = {
    package: pkgDigest,
    record: digest,
    jws,
    p7s,
    pdf,
    model,
    version,
    decision,
    ...(modelSignature ? { modelSignature } : {}),
    ...(reviewPdf ? { reviewPdf } : {}),
    // Absent for a cycle whose approvals were tag-carried (FORMAT.md, "Workflow events").
    ...(events?.length ? { events } : {}),
  };
  const seal = await storeSealObject(d.store, entry, policy); // (0)
  await d.index.add(entry); // (1)
  await d.ledger.append({ kind: "record", object: digest, seal }); // (2)
  await d.source.setTags(model, version, { [TAGS.event]: digest, [TAGS.state]: decision }); // (3)
  return { outcome: "sealed", record: digest, decision };
}

export async function sealVersion(d: SealerDeps, model: string, version: string): Promise<SealOutcome> {
  const now = d.now ?? (() => new Date());
  const mv = await d.source.version(model, version);
  const tags = mv.tags;
  const pkgDigest = tags[TAGS.package];
  if (!pkgDigest) return { outcome: "no-package" };
  await recordReviewPdf(d, pkgDigest, tags[TAGS.packagePdf]);

  const done = d.index.get(pkgDigest);
  if (done) return finishEarlierSeal(d, done, model, version, now());

  // No backfill: the discipline applies from the policy's effective date on.
  if ((mv.createdAt ?? 0) < Date.parse(d.policy.policy.effectiveFrom)) {
    await d.source.setTags(model, version, { [TAGS.state]: "pre_discipline" });
    return { outcome: "pre-discipline" };
  }

  const pkg = await readPackage(d, pkgDigest, model, version);
  const evaluation = await evaluate(d, mv, pkg, pkgDigest, now());
  const { result, ignored, counted, events } = evaluation;
  // A request for changes ends the cycle like a rejection: sealed, and the resubmission is the
  // next cycle. Only a cycle still awaiting a role waits.
  if (result.state === "pending_review") {
    await d.source.setTags(model, version, { [TAGS.state]: result.state });
    return { outcome: "waiting", state: result.state, nextRole: result.nextRole, ignored };
  }
  const record = await buildRecord(d, pkg, pkgDigest, evaluation, result.state, now());
  return commitSeal(d, pkg, record, counted, model, version, events);
}
