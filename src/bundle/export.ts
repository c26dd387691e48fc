import { z } from "zod";
import { SealgateError } from "../core/errors.js";
import type { SealIndex } from "../evidence/store/seal-index.js";
import { inclusionProof } from "../evidence/ledger/merkle.js";
import { toPem } from "../crypto/pki/x509.js";
import { canonicalBytes } from "../record/canonical.js";
import { PromotionRecord, ReviewPackage } from "../record/schema.js";
import { Seal } from "../record/seal.js";
import { isDecision } from "../governance/events/append.js";
import { peekEvent } from "../governance/events/read.js";
import type { EvidenceStore } from "../evidence/store/evidence-store.js";
import type { LedgerReader } from "../evidence/ledger/ledger.js";
import {
  type BundleIndex,
  CHECKPOINT_CHAIN,
  CHECKPOINT_NOTE,
  CHECKPOINT_TST,
  cycleFile,
  eventFile,
  INDEX,
  MANIFEST,
  manifestText,
  objectPath,
  recordObjects,
  SEALING_CHAIN,
  TSA_CHAIN,
  VERIFY_MD,
} from "./layout.js";
import { tsaChainPem } from "./tsa-token.js";
import { holdsCheckpoint, type LedgerView, ledgerView } from "../evidence/ledger/view.js";
import { bundleFacts } from "./facts.js";
import { reviewPdfFinder } from "./review-pdf.js";
import { renderVerifyMd } from "./verify-md.js";
import { writeZip } from "./zip-write.js";

/*
 * Export one sealed event as a bundle: the record and its seals (JWS, CMS, signed PDF), every
 * object it names, each earlier cycle it follows (cycle.previous) with the same, the ledger
 * entries with inclusion proofs to the latest signed checkpoint, that checkpoint (with its
 * time-stamp token and the TSA's certificates when it has one), the manifest, and VERIFY.md. A
 * record's seal object goes in with it and, for a ledger-judged cycle, the events the seal names,
 * each with its entry and inclusion proof (FORMAT.md 17). Only what is in the store goes in: nothing is re-signed.
 */

export type Selector = { event: string } | { model: string; version: string };

const unavailable = (msg: string) => new SealgateError("EXPORT_UNAVAILABLE", msg);

export const pemChain = (certsB64: readonly string[]) =>
  certsB64.map((c) => toPem(Buffer.from(c, "base64"), "CERTIFICATE")).join("");

async function readRecord(
  store: EvidenceStore,
  digest: string,
): Promise<{ bytes: Buffer; record: PromotionRecord }> {
  const bytes = Buffer.from(await store.get(digest as never));
  const parsed = PromotionRecord.safeParse(jsonOrUndefined(bytes));
  if (!parsed.success)
    throw new SealgateError("OBJECT_CORRUPT", `object ${digest} is not a promotion record`);
  return { bytes, record: parsed.data };
}

function jsonOrUndefined(bytes: Uint8Array): unknown {
  try {
    return JSON.parse(Buffer.from(bytes).toString("utf8"));
  } catch {
    return undefined;
  }
}

const JwsX5c = z.object({ protected: z.string() });
const HeaderX5c = z.object({ x5c: z.array(z.string()).min(1) });

/** The certificates in a stored record JWS's protected header (signer first). */
function sealingChain(jws: Uint8Array): string[] {
  const flat = JwsX5c.safeParse(jsonOrUndefined(jws));
  const header = flat.success
    ? HeaderX5c.safeParse(jsonOrUndefined(Buffer.from(flat.data.protected, "base64url")))
    : undefined;
  if (!header?.success) throw new SealgateError("OBJECT_CORRUPT", "the stored record JWS has no x5c chain");
  return header.data.x5c;
}

/** The newest ledger entry whose record is this model version. */
async function findEvent(store: EvidenceStore, view: LedgerView, model: string, version: string) {
  for (let seq = view.entries.length - 1; seq >= 0; seq--) {
    const entry = view.entries[seq]!;
    if (entry.kind !== "record") continue;
    const digest = entry.object;
    const { record } = await readRecord(store, digest).catch(() => ({ record: undefined }));
    if (record?.model.name === model && record.model.version === version) return digest;
  }
  throw unavailable(`no sealed record of ${model} v${version} in the ledger; has the cycle been sealed?`);
}

/** An entry's RFC 9162 audit path in the checkpoint's tree, as inclusion.json. */
function inclusionFile(view: LedgerView, seq: number, size: number): Uint8Array {
  const hashes = inclusionProof(view.leaves, seq, 0, size).map((h) => h.toString("hex"));
  return canonicalBytes({ hashes, index: seq, size }, "inclusion proof");
}

/**
 * The seal object a record's entry names and, when it names the cycle's events (a
 * ledger-judged cycle), each event object with its entry and inclusion proof, and the assertion
 * each decision event wraps (an ignored decision's assertion is not among the record's objects,
 * and verify re-runs the chain over every decision).
 */
async function exportEvents(
  store: EvidenceStore,
  view: LedgerView,
  size: number,
  sealDigest: string,
  n: number,
  files: Map<string, Uint8Array>,
): Promise<{ object: string; seq: number }[]> {
  const sealBytes = await store.get(sealDigest as never);
  files.set(objectPath(sealDigest), sealBytes);
  const seal = Seal.safeParse(jsonOrUndefined(sealBytes));
  if (!seal.success) throw new SealgateError("OBJECT_CORRUPT", `seal object ${sealDigest} is not valid`);
  const out: { object: string; seq: number }[] = [];
  for (const object of seal.data.events ?? []) {
    const seq = view.seqOf.get(object);
    if (seq === undefined)
      throw unavailable(`event ${object} named by seal ${sealDigest} is not in the ledger`);
    if (seq >= size)
      throw unavailable(
        `event ${object} (entry ${seq}) is not yet covered by a signed checkpoint (size ${size})`,
      );
    const jws = await store.get(object as never);
    files.set(objectPath(object), jws);
    files.set(eventFile(n, seq, "entry.json"), view.lines[seq]!);
    files.set(eventFile(n, seq, "inclusion.json"), inclusionFile(view, seq, size));
    const event = peekEvent(Buffer.from(jws).toString("utf8"));
    if (typeof event !== "string" && isDecision(event))
      files.set(objectPath(event.assertion), await store.get(event.assertion as never));
    out.push({ object, seq });
  }
  return out;
}

/** What export reads: the store's objects, its ledger, and its seal index. */
export interface ExportSource {
  store: EvidenceStore;
  ledger: LedgerReader;
  index: SealIndex;
}

export async function exportBundle({ store, ledger, index }: ExportSource, which: Selector): Promise<Buffer> {
  const view = await ledgerView(ledger);
  const findReviewPdf = reviewPdfFinder(store, index);
  const latest = view.latest;
  if (!latest)
    throw unavailable("the ledger has no signed checkpoint yet; a bundle needs one to prove inclusion");
  if (!holdsCheckpoint(view, latest.checkpoint))
    throw unavailable("the ledger does not match its latest checkpoint; run sealgate verify --store first");
  const size = latest.checkpoint.size;
  const event = "event" in which ? which.event : await findEvent(store, view, which.model, which.version);

  const files = new Map<string, Uint8Array>();
  const cycles: BundleIndex["cycles"] = [];
  for (let digest: string | null = event; digest;) {
    const seq = view.seqOf.get(digest);
    if (seq === undefined) throw unavailable(`record ${digest} is not in the ledger`);
    if (seq >= size)
      throw unavailable(
        `record ${digest} (entry ${seq}) is not yet covered by a signed checkpoint (size ${size}); export after the next checkpoint`,
      );
    const seal = index.byRecord(digest);
    if (!seal) throw unavailable(`record ${digest} has no seals in the store's index`);
    const { bytes, record } = await readRecord(store, digest);
    const n = record.cycle.number;
    if (cycles.some((c) => c.number === n))
      throw unavailable(`cycle ${n} appears twice in the history of ${event}`);
    const pkg = ReviewPackage.safeParse(jsonOrUndefined(await store.get(record.package as never)));
    if (!pkg.success)
      throw new SealgateError("OBJECT_CORRUPT", `review package ${record.package} is not valid`);
    const reviewPdf = await findReviewPdf(record);
    if (reviewPdf) files.set(objectPath(reviewPdf.digest), reviewPdf.bytes);
    const { modelSignature } = seal;
    if (modelSignature) files.set(objectPath(modelSignature), await store.get(modelSignature as never));
    cycles.push({
      number: n,
      record: digest,
      seq,
      ...(reviewPdf ? { reviewPdf: reviewPdf.digest } : {}),
      ...(modelSignature ? { modelSignature } : {}),
    });
    files.set(cycleFile(n, "record.json"), bytes);
    files.set(cycleFile(n, "record.jws"), await store.get(seal.jws as never));
    files.set(cycleFile(n, "record.p7s"), await store.get(seal.p7s as never));
    files.set(cycleFile(n, "record.pdf"), await store.get(seal.pdf as never));
    files.set(cycleFile(n, "entry.json"), view.lines[seq]!);
    files.set(cycleFile(n, "inclusion.json"), inclusionFile(view, seq, size));
    const sealDigest = view.entries[seq]!.seal;
    if (sealDigest) {
      const cycle = cycles.at(-1)!;
      cycle.seal = sealDigest;
      const events = await exportEvents(store, view, size, sealDigest, n, files);
      if (events.length) cycle.events = events;
    }
    for (const { digest: o } of recordObjects(record)) {
      try {
        files.set(objectPath(o), await store.get(o as never));
      } catch (cause) {
        throw new SealgateError(
          "OBJECT_MISSING",
          `object ${o} named by record ${digest} is not in the store`,
          {
            cause,
          },
        );
      }
    }
    digest = record.cycle.previous;
  }

  files.set(
    SEALING_CHAIN,
    Buffer.from(pemChain(sealingChain(files.get(cycleFile(cycles[0]!.number, "record.jws"))!))),
  );
  files.set(CHECKPOINT_NOTE, Buffer.from(latest.signed.note));
  files.set(CHECKPOINT_CHAIN, Buffer.from(pemChain(latest.signed.chain)));
  if (latest.signed.tst) {
    const tst = Buffer.from(latest.signed.tst, "base64");
    files.set(CHECKPOINT_TST, tst);
    files.set(TSA_CHAIN, Buffer.from(tsaChainPem(tst)));
  }
  files.set(
    INDEX,
    canonicalBytes({ type: "sealgate.bundle/1", event, cycles } satisfies BundleIndex, "bundle index"),
  );
  files.set(VERIFY_MD, Buffer.from(renderVerifyMd(bundleFacts(files))));
  files.set(MANIFEST, Buffer.from(manifestText(files)));
  return writeZip(files);
}
