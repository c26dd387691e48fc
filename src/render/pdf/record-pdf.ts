import { deflateSync } from "node:zlib";
import {
  AFRelationship,
  copyStringIntoBuffer,
  type PDFDict,
  PDFDocument,
  PDFHexString,
  PDFName,
  PDFRawStream,
  typedArrayFor,
} from "pdf-lib";
import type { Annotation, PromotionRecord, ReviewPackage } from "../../record/schema.js";
import { FontSet } from "./fonts.js";
import { documentIdOf } from "../../crypto/sign/pdf-id.js";
import { formatValue } from "./axis.js";
import { Layout, NOT_RECORDED } from "./layout.js";
import { embedPng } from "./png.js";
import { addSignaturePlaceholder, type SignatureInfo, signPdf } from "../../crypto/sign/pdf-signature.js";
import { fingerprint } from "../../crypto/pki/x509.js";
import { opensslCmsVerifyCommand } from "../../crypto/sign/cms.js";
import type { Signer } from "../../crypto/sign/signer.js";
import { BoundedCache } from "../../core/util/bounded-cache.js";

/*
 * The sealed record (or the review package an approver signs) as a PDF a compliance officer
 * can read: a cover with the identifying digests and the seal (who sealed, when, with which
 * certificate, and how to check it), one section per review criterion, the
 * explanation image as the approver saw it, the approval chain with certificate identities,
 * the review history, and the machine-readable evidence embedded as associated files.
 * Byte-identical for the same input: every date comes from the record, no clock is read.
 */

export interface ApprovalRow {
  role: string;
  decision: string;
  signedAt: string;
  comment: string;
  subject: string;
  email: string;
  issuer: string;
  fingerprint: string;
}

export interface HistoryEntry {
  cycle: number;
  decision: string;
  record: string;
  changes: { path: string; kind: "added" | "removed" | "changed"; before?: string; after?: string }[];
}

export interface RecordPdfInput {
  kind: "sealed-record" | "review-package";
  /** The sealed record, or the review package before any decision. */
  record: PromotionRecord | ReviewPackage;
  /** `sha256:` digest shown on the cover and every footer (record or package digest). */
  digest: string;
  explanation: { bytes: Uint8Array; mediaType: string };
  approvals: ApprovalRow[];
  history?: HistoryEntry[];
  /** Signed comments on a package not yet sealed (a sealed record carries its own). */
  annotations?: Annotation[];
  /** Policy thresholds per metric, shown beside the results. */
  thresholds?: Record<string, { min?: number; max?: number }>;
  /** The sealing certificate, shown on page 1 (renderSignedRecordPdf takes it from the signer). */
  seal?: { subject: string; fingerprint: string };
  /** When present, the PDF gets an empty PAdES signature field, to be filled by signPdf. */
  signature?: SignatureInfo;
  /** Machine-readable evidence carried inside the PDF (PDF/A-3 style associated files). */
  attachments: { name: string; bytes: Uint8Array; mimeType: string; description: string }[];
}

/** A digest in groups of eight hex digits, for reading aloud and comparing by eye. */
export const grouped = (digest: string) =>
  digest.replace(/^sha256:/, "sha256: ").replace(/([0-9a-f]{8})(?=[0-9a-f])/g, "$1 ");

/** Integers exactly; fractions to six significant digits without trailing zeros (0.88, not 0.880000). */
const fmt = (n: number | undefined) => (n === undefined ? NOT_RECORDED : formatValue(n));

/** A time as a reader takes it in: `2026-12-04 14:54 UTC` (the record keeps the exact instant). */
export const displayTime = (iso: string) => {
  const t = new Date(iso);
  return Number.isNaN(t.getTime())
    ? iso
    : `${t.toISOString().slice(0, 10)} ${t.toISOString().slice(11, 16)} UTC`;
};

/** Every character the template itself writes: printable ASCII, bullets and dashes. */
const TEMPLATE_TEXT = `${String.fromCharCode(...Array.from({ length: 95 }, (_, i) => 32 + i))}•—`;

/** Symbols of the template the main face lacks (the math font draws them): asked for only when written. */
const mathSymbols = (input: RecordPdfInput) =>
  `${input.record.materiality.chain.length > 1 ? "→" : ""}${input.thresholds ? "≥≤" : ""}`;

/** Every string of the input (values and keys, deeply), which with the template is all the PDF writes. */
function* strings(value: unknown): Generator<string> {
  if (typeof value === "string") yield value;
  else if (value instanceof Uint8Array || value instanceof Date) return;
  else if (Array.isArray(value)) for (const v of value) yield* strings(v);
  else if (value && typeof value === "object") {
    for (const [k, v] of Object.entries(value)) {
      yield k;
      yield* strings(v);
    }
  }
}

export async function renderRecordPdf(input: RecordPdfInput): Promise<Uint8Array> {
  // Fonts are subset to the characters the input and the template can draw, known before
  // layout, so the document is laid out once.
  const doc = await PDFDocument.create({ updateMetadata: false });
  nativeStreams(doc);
  await layoutRecord(
    doc,
    await FontSet.embed(doc, [TEMPLATE_TEXT, mathSymbols(input), ...strings(input)]),
    input,
  );
  if (input.signature) addSignaturePlaceholder(doc, input.signature);
  // pdf-lib's writer waits for a setTimeout(0), at least a millisecond, after every 50 objects
  // so a browser's page stays responsive; writing a record PDF takes about one millisecond.
  return doc.save({ useObjectStreams: false, objectsPerTick: Number.POSITIVE_INFINITY });
}

/**
 * pdf-lib deflates font files, their ToUnicode maps and attachments with pako (pure JS, 9% of a
 * seal); Node's zlib writes the same format for a fraction of the CPU. The same font subset and
 * ToUnicode map recur in record after record, so their compressed bytes are kept (a subset is
 * one Uint8Array for as long as it is cached). Page content is deflated by the layout.
 */
const deflatedBytes = new WeakMap<Uint8Array, Buffer>();
const deflatedText = new BoundedCache<string, Buffer>(64);
function deflateOnce(contents: string | Uint8Array): Buffer {
  if (typeof contents !== "string") {
    let out = deflatedBytes.get(contents);
    if (!out) deflatedBytes.set(contents, (out = deflateSync(contents)));
    return out;
  }
  return deflatedText.get(contents, (text) => deflateSync(Buffer.from(text, "latin1")));
}

/**
 * A stream saved with its contents in one copy: pdf-lib's own copies them one byte at a time in
 * JavaScript, half a millisecond a record PDF (200 KB of fonts and files). Same bytes written.
 * (pdf-lib declares the constructor private; it is an ordinary class underneath.)
 */
class BulkCopyStream extends (PDFRawStream as unknown as new (
  dict: PDFDict,
  contents: Uint8Array,
) => PDFRawStream) {
  override copyBytesInto(buffer: Uint8Array, offset: number): number {
    this.updateDict();
    const start = offset;
    offset += this.dict.copyBytesInto(buffer, offset);
    offset += copyStringIntoBuffer("\nstream\n", buffer, offset);
    buffer.set(this.contents, offset);
    offset += this.contents.length;
    offset += copyStringIntoBuffer("\nendstream", buffer, offset);
    return offset - start;
  }
}

/** This document's streams: deflated by Node's zlib (see deflateOnce), saved in one copy. */
function nativeStreams(doc: PDFDocument) {
  const ctx = doc.context;
  ctx.stream = (contents, dict = {}) => new BulkCopyStream(ctx.obj(dict), typedArrayFor(contents));
  ctx.flateStream = (contents, dict = {}) =>
    ctx.stream(deflateOnce(contents), { ...dict, Filter: "FlateDecode" });
}

/** The document in reading order: the cover, then one section per review criterion, then the footer. */
async function layoutRecord(doc: PDFDocument, fonts: FontSet, input: RecordPdfInput): Promise<void> {
  const at = new Date(recordTime(input.record));
  documentInfo(doc, input, at);
  const l = new Layout(doc, fonts);
  cover(l, input);
  dataProvenance(l, input.record);
  evaluationResults(l, input);
  limitationsAndScope(l, input.record);
  requestConditionsAndMateriality(l, input.record);
  await explanationArtefact(doc, l, input);
  approvalsAndComments(l, input);
  cycleHistory(l, input);
  await embeddedEvidence(doc, l, input, at);
  l.footer(`${input.kind === "sealed-record" ? "record" : "package"} ${input.digest}`);
  l.finish();
  doc.catalog.set(PDFName.of("Lang"), PDFHexString.fromText("en"));
}

/** The record's own time: when it was sealed, or, for a package, when it was observed. */
const recordTime = (r: RecordPdfInput["record"]) => ("sealedAt" in r ? r.sealedAt : r.observedAt);

const titleOf = ({ kind, record: r }: RecordPdfInput) =>
  kind === "sealed-record"
    ? `Sealed promotion record: ${r.model.name} v${r.model.version}`
    : `Review package: ${r.model.name} v${r.model.version}`;

/** The document information dictionary and file identifier: all from the input, no clock. */
function documentInfo(doc: PDFDocument, input: RecordPdfInput, at: Date) {
  doc.setTitle(titleOf(input));
  doc.setAuthor("sealgate");
  doc.setSubject(input.digest);
  doc.setProducer("sealgate");
  doc.setCreator("sealgate");
  doc.setCreationDate(at);
  doc.setModificationDate(at);
  // A fixed file identifier derived from the digest (pdf-lib would otherwise leave none).
  const id = PDFHexString.of(documentIdOf(input.digest));
  doc.context.trailerInfo.ID = doc.context.obj([id, id]);
}

/** Page 1: the title, the seal block and the identifying digests. */
function cover(l: Layout, input: RecordPdfInput) {
  const r = input.record;
  const sealed = "sealedAt" in r;
  l.heading(titleOf(input), 1);
  l.keyValues(sealBlock(input), { shade: true });
  l.keyValues([
    ["Model", `${r.model.name}, version ${r.model.version}`],
    ["Model content digest", grouped(r.model.contentDigest)],
    ["Decision", sealed ? r.decision.replace("_", " ") : "pending review"],
    ["Materiality tier", r.materiality.tier],
    ...(sealed ? [] : ([["Assembled at", displayTime(recordTime(r))]] as [string, string][])),
    ["Observed in registry at", displayTime(r.observedAt)],
    [input.kind === "sealed-record" ? "Record digest" : "Package digest", grouped(input.digest)],
    [
      "Review cycle",
      `${r.cycle.number}${r.cycle.previous ? ` (previous: ${grouped(r.cycle.previous)})` : ""}`,
    ],
    ["Registry", r.model.registry],
    ["Source", r.model.source],
  ]);
}

function dataProvenance(l: Layout, r: RecordPdfInput["record"]) {
  l.heading("1. Training and evaluation data provenance");
  const d = r.dataset;
  l.keyValues([
    ["Evaluation dataset", `${d.name} (${d.context ? d.context : `context ${NOT_RECORDED}`})`],
    ["Content digest", d.contentAddressed ? grouped(d.digest) : `not content-addressed: ${d.reason}`],
    ...(d.contentAddressed
      ? ([["Resolved from", `${d.resolvedFrom}: ${d.location} (${d.size} bytes)`]] as [string, string][])
      : []),
    ["MLflow label (not a content hash)", `${d.mlflowDigest} ${d.mlflowSource}`],
    [
      "Feature pipeline",
      r.featurePipeline
        ? `${r.featurePipeline.version}${r.featurePipeline.digest ? ` ${grouped(r.featurePipeline.digest)}` : ""}`
        : NOT_RECORDED,
    ],
  ]);
}

function evaluationResults(l: Layout, input: RecordPdfInput) {
  const r = input.record;
  l.heading("2. Evaluation results against policy and the challenger");
  const c = r.challenger;
  l.paragraph(
    c.against === "none"
      ? `No challenger: measured alone on ${c.evaluationSet}.`
      : `Measured against the ${c.against}${c.alias ? ` (alias ${c.alias})` : ""} ${c.name ?? ""} v${c.version ?? "?"} on ${c.evaluationSet}${c.contentDigest ? `; challenger content digest ${grouped(c.contentDigest)}` : ""}.`,
  );
  const metrics = [...new Set([...Object.keys(c.candidate), ...Object.keys(c.challenger)])].sort();
  const bound = (m: string) => {
    const t = input.thresholds?.[m];
    return t
      ? [t.min !== undefined ? `≥ ${fmt(t.min)}` : "", t.max !== undefined ? `≤ ${fmt(t.max)}` : ""]
          .filter(Boolean)
          .join(", ")
      : "no threshold";
  };
  if (!metrics.length) {
    l.paragraph("No metrics recorded for the candidate or the challenger.");
    return;
  }
  l.table(
    [
      ["Metric", "Candidate", "Challenger", "Delta", "Policy"],
      ...metrics.map((m) => [m, fmt(c.candidate[m]), fmt(c.challenger[m]), fmt(c.delta[m]), bound(m)]),
    ],
    [0.3, 0.17, 0.17, 0.16, 0.2],
  );
  l.barChart(metrics, [
    { name: `candidate v${r.model.version}`, values: metrics.map((m) => c.candidate[m]) },
    ...(c.against === "none"
      ? []
      : [{ name: `challenger v${c.version ?? "?"}`, values: metrics.map((m) => c.challenger[m]) }]),
  ]);
}

/** Sections 3 and 4: what the model cannot do, and where it may be deployed. */
function limitationsAndScope(l: Layout, r: RecordPdfInput["record"]) {
  const card = r.modelCard;
  l.heading("3. Known limitations");
  l.paragraph(r.request.knownLimitations || "None stated in the request.");
  if (card) l.paragraph(`Model card (${card.path}):\n${card.limitations.map((x) => `• ${x}`).join("\n")}`);
  l.heading("4. Deployment scope");
  l.keyValues([
    ["Scope", r.request.scope],
    ["Intended deployment", r.request.intendedDeployment],
    ...(card
      ? ([
          ["Intended use (model card)", card.intendedUse],
          ["Targets the card allows", card.targets.join(", ")],
          ["Model card object", grouped(card.object)],
        ] as [string, string][])
      : ([["Model card", "none among the version's artefacts"]] as [string, string][])),
  ]);
}

/** Sections 5 to 7: the request, the conditions set on it, and why it needed this approval chain. */
function requestConditionsAndMateriality(l: Layout, r: RecordPdfInput["record"]) {
  const sealed = "sealedAt" in r;
  l.heading("5. Approval request");
  l.paragraph(r.request.justification);
  l.paragraph(`Request object: ${grouped(r.request.object)}`, { size: 8, muted: true });
  l.heading("6. Conditions");
  const conditions = sealed ? r.conditions : [];
  l.paragraph(
    conditions.length
      ? conditions.map((x) => `• ${x}`).join("\n")
      : sealed
        ? "None."
        : "Set by the approvers.",
  );
  l.heading("7. Materiality");
  l.paragraph(`Tier: ${r.materiality.tier}. Policy ${r.policy.version}, ${grouped(r.policy.digest)}.`);
  if ("chain" in r.materiality) l.paragraph(`Approval chain, in order: ${r.materiality.chain.join(" → ")}.`);
  l.paragraph(
    r.materiality.reasons.length
      ? r.materiality.reasons.map((x) => `• ${x}`).join("\n")
      : "No material change.",
  );
}

async function explanationArtefact(doc: PDFDocument, l: Layout, input: RecordPdfInput) {
  const r = input.record;
  l.heading("8. Explanation artefact (as the approvers saw it)");
  l.paragraph(
    `${r.explanation.name}, ${r.explanation.mediaType}, ${r.explanation.size} bytes, ${grouped(r.explanation.object)}`,
    { size: 8, muted: true, keepWithNext: true },
  );
  if (input.explanation.mediaType === "image/png") l.image(await embedPng(doc, input.explanation.bytes));
  else if (input.explanation.mediaType === "image/jpeg") l.image(await doc.embedJpg(input.explanation.bytes));
  else l.paragraph("The explanation is a machine-readable document; it is attached to this PDF.");
}

/** Section 9: each approval with its certificate identity, then the signed reviewer comments. */
function approvalsAndComments(l: Layout, input: RecordPdfInput) {
  const r = input.record;
  l.heading("9. Approvals, in chain order");
  if (input.approvals.length === 0) l.paragraph("No approvals yet.");
  for (const [i, a] of input.approvals.entries()) {
    l.table(
      [
        [`#${i + 1} ${a.role}`, `${a.decision} at ${displayTime(a.signedAt)}`],
        ["Approver", `${a.subject} <${a.email}>`],
        ["Issued by", a.issuer],
        ["Certificate SHA-256", a.fingerprint],
        ["Comment", a.comment || "none given"],
      ],
      [0.25, 0.75],
      { header: false, size: 8.5, together: true },
    );
  }

  const notes = "sealedAt" in r ? r.annotations : (input.annotations ?? []);
  if (!notes.length) return;
  l.subheading("Reviewer comments and clarification requests");
  for (const n of notes) {
    l.table(
      [
        [`${n.kind} on ${n.section}`, `${n.identity.email} at ${displayTime(n.signedAt)}`],
        ["Text", n.text],
      ],
      [0.25, 0.75],
      { header: false, size: 8.5, together: true },
    );
  }
}

function cycleHistory(l: Layout, input: RecordPdfInput) {
  l.heading("10. Review cycle history");
  if (!input.history?.length) l.paragraph(`Cycle ${input.record.cycle.number}; no earlier cycle.`);
  for (const h of input.history ?? []) {
    l.subheading(`Cycle ${h.cycle}: ${h.decision.replace("_", " ")} (${grouped(h.record)})`);
    if (h.changes.length) {
      l.table(
        [
          ["Change", "Field", "Before", "After"],
          ...h.changes.map((x) => [x.kind, x.path, changeSide(x, "before"), changeSide(x, "after")]),
        ],
        [0.12, 0.28, 0.3, 0.3],
        { size: 8 },
      );
    }
  }
}

/** Section 11: the list of attached files, and the files themselves, dated by the record. */
async function embeddedEvidence(doc: PDFDocument, l: Layout, input: RecordPdfInput, at: Date) {
  l.heading("11. Embedded evidence");
  l.table(
    [["File", "Type", "Contents"], ...input.attachments.map((a) => [a.name, a.mimeType, a.description])],
    [0.35, 0.2, 0.45],
    { size: 8.5 },
  );
  for (const a of input.attachments) {
    await doc.attach(a.bytes, a.name, {
      mimeType: a.mimeType,
      description: a.description,
      creationDate: at,
      modificationDate: at,
      afRelationship: AFRelationship.Data,
    });
  }
}

/** One side of a history change: an added field had no value before it, a removed one none after. */
function changeSide(change: HistoryEntry["changes"][number], side: "before" | "after"): string {
  const absent = side === "before" ? change.kind === "added" : change.kind === "removed";
  return absent ? "not present" : (change[side] ?? NOT_RECORDED);
}

/**
 * Page 1's seal block: who sealed, when, with which certificate, and the commands that check
 * it (FORMAT.md sections 4, 15 and 17.4). A review package is not sealed, and says so.
 */
function sealBlock(input: RecordPdfInput): [string, string][] {
  const r = input.record;
  if (!("sealedAt" in r)) {
    return [
      [
        "Sealed by",
        "not sealed yet: this is the package the approvers sign; the sealed record's PDF carries the seal",
      ],
    ];
  }
  const root = "<root.pem>";
  return [
    ["Sealed by", input.seal?.subject ?? NOT_RECORDED],
    ["Sealed at", displayTime(r.sealedAt)],
    ["Sealing certificate SHA-256", input.seal ? grouped(input.seal.fingerprint) : NOT_RECORDED],
    [
      "Verify with",
      `sealgate verify <bundle.zip> --ca ${root}\n` +
        `Without sealgate, in the exported bundle (record.json is also attached to this PDF):\n` +
        `${opensslCmsVerifyCommand({ p7s: "record.p7s", content: "record.json", root, signingTime: r.sealedAt, signerOut: "signer.pem" })}\n` +
        `then signer.pem's SHA-256 fingerprint must equal the one above.\n` +
        `This PDF's own signature: pdfsig, trusting ${root} (FORMAT.md sections 4, 15 and 17.4).`,
    ],
  ];
}

/** Render and seal: the sealed-record PDF signed by the sealing key, signing as the last write. */
export async function renderSignedRecordPdf(input: RecordPdfInput, signer: Signer): Promise<Uint8Array> {
  const signature = input.signature ?? {
    time: new Date("sealedAt" in input.record ? input.record.sealedAt : input.record.observedAt),
    name: signer.chain[0]!.subject,
    reason: `sealgate ${input.kind === "sealed-record" ? "sealed record" : "review package"} ${input.digest}`,
  };
  const cert = signer.chain[0]!;
  const seal = input.seal ?? { subject: cert.subject, fingerprint: await fingerprint(cert) };
  return signPdf(await renderRecordPdf({ ...input, seal, signature }), signer);
}
