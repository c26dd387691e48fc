import { buildManifest, isIgnored, ModelManifest } from "../../source/digest/model.js";
import type { EvidenceStore } from "../../evidence/store/evidence-store.js";
import { type Finding, finding } from "../../evidence/verify/findings.js";
import type { FileRoot, RegistrySource, SourceFile, SourceVersion } from "../../source/registry-source.js";
import type { PromotionRecord } from "../../record/schema.js";

/*
 * Are the bytes being deployed the bytes that were approved? In full, by re-hashing every model
 * file from the registry against the sealed content digest. With --fast, by trusting the sealed
 * manifest's per-file digests as long as nothing the registry can tell us without reading the
 * bytes has moved: the version's source URI, its run id, and the listing (names and sizes).
 * What --fast cannot see (a same-size byte change inside an unchanged file name, under an
 * unchanged source and run) is what the full re-hash is for; any difference it can see sends
 * the gate to the full re-hash (or, with rehash off, to a denial), and says why.
 */

export interface ContentCheck {
  /** How the bytes were judged: by the fast checks alone, or by a full re-hash. */
  method: "fast" | "full";
  /** Why --fast did not suffice (empty when it did, or when --fast was not asked for). */
  fallback: string[];
  findings: Finding[];
}

export interface ContentOptions {
  fast?: boolean;
  /** With fast: when a fast check fails, re-hash (default) or deny with the reason. */
  rehash?: boolean;
}

const policy = (code: Finding["code"], message: string, where = {}) =>
  finding(code, "policy", message, where);

export async function checkContent(
  d: { source: RegistrySource; store: EvidenceStore },
  record: PromotionRecord,
  live: SourceVersion,
  opts: ContentOptions = {},
): Promise<ContentCheck> {
  const root = await d.source.modelFiles(live.model, live.version);
  if (!opts.fast) return { method: "full", fallback: [], findings: await rehash(d.source, root, record) };
  const fast = await fastCheck(d, record, live, root);
  if ("findings" in fast) return { method: "fast", fallback: [], findings: fast.findings };
  if (fast.differences.length === 0) return { method: "fast", fallback: [], findings: [] };
  if (opts.rehash === false)
    return {
      method: "fast",
      fallback: [],
      findings: fast.differences.map((why) =>
        policy("FAST_CHECK_FAILED", `${why}; not re-hashed (--no-rehash), so not allowed`),
      ),
    };
  return { method: "full", fallback: fast.differences, findings: await rehash(d.source, root, record) };
}

async function rehash(source: RegistrySource, root: FileRoot, record: PromotionRecord): Promise<Finding[]> {
  const current = await source.hashModel(root);
  if (current.root === record.model.contentDigest) return [];
  return [
    policy(
      "CONTENT_CHANGED",
      `the model's content digest is now ${current.root}; ${record.model.contentDigest} was approved: the artefact bytes changed after sealing`,
    ),
  ];
}

/**
 * Everything --fast compares, each difference as a sentence; or a finding that denies outright
 * (a sealed manifest that does not hash to the sealed content digest: the record itself is wrong).
 */
async function fastCheck(
  d: { source: RegistrySource; store: EvidenceStore },
  record: PromotionRecord,
  live: SourceVersion,
  root: FileRoot,
): Promise<{ differences: string[] } | { findings: Finding[] }> {
  const differences: string[] = [];
  if (live.source !== record.model.source)
    differences.push(
      `the version's source URI is now ${JSON.stringify(live.source)}; ${JSON.stringify(record.model.source)} was sealed`,
    );
  if (live.runId !== record.model.runId)
    differences.push(
      `the version's run id is now ${JSON.stringify(live.runId)}; ${JSON.stringify(record.model.runId)} was sealed`,
    );
  const manifest = await sealedManifest(d.store, record.model.manifest);
  if (typeof manifest === "string") return { differences: [...differences, manifest] };
  if (buildManifest(manifest.files).root !== record.model.contentDigest)
    return {
      findings: [
        policy("MANIFEST_MISMATCH", "the sealed manifest does not hash to the sealed content digest", {
          object: record.model.manifest,
        }),
      ],
    };
  differences.push(...listingDifferences(manifest, await d.source.list(root)));
  return { differences };
}

/** The sealed manifest, or why it cannot be used (then only a full re-hash can judge the bytes). */
async function sealedManifest(store: EvidenceStore, digest: string): Promise<ModelManifest | string> {
  let bytes: Uint8Array;
  try {
    bytes = await store.get(digest as never);
  } catch (err) {
    return `the sealed manifest ${digest} cannot be read from the store (${(err as Error).message})`;
  }
  try {
    return ModelManifest.parse(JSON.parse(Buffer.from(bytes).toString("utf8")));
  } catch {
    return `the sealed manifest ${digest} is not a model manifest`;
  }
}

const MAX_NAMED = 10;
const names = (xs: string[]) =>
  xs.length > MAX_NAMED
    ? `${xs.slice(0, MAX_NAMED).join(", ")} and ${xs.length - MAX_NAMED} more`
    : xs.join(", ");

/** Added, removed and resized files, as the hashed files are (ignored root names left out). */
export function listingDifferences(manifest: ModelManifest, listing: SourceFile[]): string[] {
  const live = new Map(listing.filter((f) => !isIgnored(f.path)).map((f) => [f.path, f.size]));
  const sealed = new Map(manifest.files.map((f) => [f.name, f.size]));
  const added = [...live.keys()].filter((p) => !sealed.has(p));
  const removed = [...sealed.keys()].filter((p) => !live.has(p));
  const resized = [...sealed].filter(([p, size]) => live.has(p) && live.get(p) !== size);
  return [
    ...(added.length ? [`files added since sealing: ${names(added)}`] : []),
    ...(removed.length ? [`files removed since sealing: ${names(removed)}`] : []),
    ...(resized.length
      ? [
          `file sizes changed since sealing: ${names(resized.map(([p, size]) => `${p} (${size} -> ${live.get(p)} bytes)`))}`,
        ]
      : []),
  ];
}
