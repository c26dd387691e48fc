import { join } from "node:path";
import { buildManifest, ModelManifest } from "../../source/digest/model.js";
import { SealgateError } from "../../core/errors.js";
import { HttpStatusError } from "../../core/http/errors.js";
import { verifyCheckpoint } from "../../evidence/ledger/checkpoint.js";
import { readLedgerView } from "../../evidence/ledger/view.js";
import { inclusionProof, verifyInclusion } from "../../evidence/ledger/merkle.js";
import type { Trust } from "../../crypto/pki/trust.js";
import type { RegistrySource } from "../../source/registry-source.js";
import { PromotionRecord, recordDigest } from "../../record/schema.js";
import { verifyCmsDetached } from "../../crypto/sign/cms.js";
import { type FlattenedJws, verifyJws } from "../../crypto/sign/jws.js";
import type { FsObjectStore } from "../../evidence/store/fs-store.js";
import type { SealIndex } from "../../evidence/store/seal-index.js";
import { RECORD_JWS_TYP } from "../../record/schema.js";
import { conditionViolations, modelCardViolations } from "../../policy/conditions.js";
import { TAGS } from "../cycle/tags.js";

/*
 * The deployment gate: a version may ship only if a sealed, approved, unexpired record covers
 * its current content digest, for this target, with valid signatures and a valid inclusion
 * proof to a signed checkpoint. Anything less is a denial with the reason. The event is a gate,
 * not documentation.
 */

export interface GateResult {
  allowed: boolean;
  reasons: string[];
  record?: string;
}

export interface GateDeps {
  source: RegistrySource;
  store: FsObjectStore;
  index: SealIndex;
  trust: Trust;
  now?: () => Date;
}

export async function gate(
  d: GateDeps,
  model: string,
  version: string,
  opts: { target?: string; fast?: boolean } = {},
): Promise<GateResult> {
  const now = (d.now ?? (() => new Date()))();
  const deny = (...reasons: string[]): GateResult => ({ allowed: false, reasons });
  const found = await modelVersionTags(d.source, model, version);
  if (typeof found === "string") return deny(found);
  const digest = found[TAGS.event];
  if (!digest)
    return deny(`${model} v${version} has no sealed record (no ${TAGS.event} tag): it has not been approved`);

  const reasons: string[] = [];
  let record: PromotionRecord;
  try {
    const bytes = await d.store.get(digest as never);
    record = PromotionRecord.parse(JSON.parse(Buffer.from(bytes).toString("utf8")));
    if (recordDigest(record) !== digest) throw new Error("record bytes are not canonical");
  } catch (err) {
    return deny(`sealed record ${digest} is missing or invalid in this store: ${(err as Error).message}`);
  }
  if (record.model.name !== model || record.model.version !== version)
    reasons.push(`record ${digest} is for ${record.model.name} v${record.model.version}`);
  if (record.decision !== "approved") reasons.push(`the sealed decision is ${record.decision}`);
  reasons.push(...conditionViolations(record.conditions, new Date(record.sealedAt), now, opts.target));
  reasons.push(...modelCardViolations(record, opts.target));

  // The bytes being deployed must be the bytes that were approved.
  const root = await d.source.modelFiles(model, version);
  if (opts.fast) {
    const manifest = ModelManifest.parse(
      JSON.parse(Buffer.from(await d.store.get(record.model.manifest as never)).toString("utf8")),
    );
    if (buildManifest(manifest.files).root !== record.model.contentDigest)
      reasons.push("the cached manifest does not hash to the sealed content digest");
    const listed = new Map((await d.source.list(root)).map((f) => [f.path, f.size]));
    const changed = manifest.files.filter((f) => listed.get(f.name) !== f.size).map((f) => f.name);
    const extra = [...listed.keys()].filter((p) => !manifest.files.some((f) => f.name === p));
    if (changed.length || extra.length)
      reasons.push(`model files changed since sealing: ${[...changed, ...extra].join(", ")}`);
  } else {
    const current = await d.source.hashModel(root);
    if (current.root !== record.model.contentDigest) {
      reasons.push(
        `the model's content digest is now ${current.root}; ${record.model.contentDigest} was approved: the artefact bytes changed after sealing`,
      );
    }
  }

  // Signatures over the record.
  const seal = d.index.byRecord(digest);
  if (!seal) {
    reasons.push(`no signatures are indexed for record ${digest}`);
  } else {
    const bytes = await d.store.get(digest as never);
    try {
      const jws = JSON.parse(
        Buffer.from(await d.store.get(seal.jws as never)).toString("utf8"),
      ) as FlattenedJws;
      const v = await verifyJws(jws, d.trust, {
        purpose: "sealing",
        at: new Date(record.sealedAt),
        typ: RECORD_JWS_TYP,
      });
      if (!Buffer.from(v.payload).equals(Buffer.from(bytes)))
        reasons.push("the record JWS signs other bytes");
      await verifyCmsDetached(await d.store.get(seal.p7s as never), bytes, d.trust);
    } catch (err) {
      reasons.push(`record signature refused: ${(err as Error).message}`);
    }
  }

  // Inclusion in the ledger, proven against a signed checkpoint.
  reasons.push(...(await inclusionFindings(join(d.store.root, "ledger"), digest, d.trust)));
  return reasons.length
    ? { allowed: false, reasons, record: digest }
    : { allowed: true, reasons: [], record: digest };
}

/** The version's tags, or why it cannot ship: a model or version MLflow does not have is a denial. */
async function modelVersionTags(
  source: RegistrySource,
  model: string,
  version: string,
): Promise<Record<string, string> | string> {
  try {
    return (await source.version(model, version)).tags;
  } catch (err) {
    if (err instanceof HttpStatusError && err.remote.code === "RESOURCE_DOES_NOT_EXIST")
      return `${model} v${version} does not exist in MLflow: ${err.remote.message}`;
    throw err;
  }
}

async function inclusionFindings(dir: string, digest: string, trust: Trust): Promise<string[]> {
  const view = await readLedgerView(dir);
  const index = view.seqOf.get(digest);
  if (index === undefined) return [`record ${digest} is not in the ledger`];
  if (!view.latest)
    return ["no signed checkpoint covers the ledger yet; run the checkpoint job (sealgate sync) first"];
  try {
    const cp = await verifyCheckpoint(view.latest.signed, trust);
    if (cp.size <= index)
      return [`the latest signed checkpoint (size ${cp.size}) does not cover entry ${index} yet`];
    if (cp.size > view.leaves.length)
      return [
        `the ledger holds ${view.leaves.length} entries but its checkpoint signed ${cp.size}: it was truncated`,
      ];
    const proof = inclusionProof(view.leaves, index, 0, cp.size);
    if (!verifyInclusion(index, cp.size, view.leaves[index]!, proof, cp.root))
      return [`entry ${index} is not included in the signed checkpoint's tree`];
    return [];
  } catch (err) {
    if (err instanceof SealgateError) return [`checkpoint refused: ${err.message}`];
    throw err;
  }
}
