import { z } from "zod";
import { sha256hex } from "../evidence/ledger/ledger.js";
import { Digest, type PromotionRecord } from "../record/schema.js";
import { referencedObjects } from "../record/objects.js";

/*
 * Where everything sits in a bundle (FORMAT.md section 17). Names are fixed so that VERIFY.md's
 * commands and an auditor's eyes find the same files in every bundle.
 */

export const MANIFEST = "MANIFEST.sha256";
export const INDEX = "bundle.json";
export const VERIFY_MD = "VERIFY.md";
export const SEALING_CHAIN = "certs/sealing-chain.pem";
export const CHECKPOINT_NOTE = "ledger/checkpoint.note";
export const CHECKPOINT_CHAIN = "ledger/checkpoint-chain.pem";
/** The checkpoint's RFC 3161 TimeStampToken (DER), when it has one. */
export const CHECKPOINT_TST = "ledger/checkpoint.tst";
/** The certificates that token carries (the TSA's and its CA's), as PEM: present with the token. */
export const TSA_CHAIN = "certs/tsa-chain.pem";

export const cycleDir = (n: number) => `records/${n}`;
export const CYCLE_FILES = [
  "record.json",
  "record.jws",
  "record.p7s",
  "record.pdf",
  "entry.json",
  "inclusion.json",
] as const;
export const cycleFile = (n: number, f: (typeof CYCLE_FILES)[number]) => `${cycleDir(n)}/${f}`;
/** records/<n>/events/<seq>.entry.json and .inclusion.json: an event's ledger entry and its proof. */
export const eventFile = (n: number, seq: number, f: "entry.json" | "inclusion.json") =>
  `${cycleDir(n)}/events/${seq}.${f}`;
export const objectPath = (digest: string) => `objects/${digest.slice("sha256:".length)}`;

/** bundle.json: which record the bundle is about, and every cycle behind it, newest first. */
export const BundleIndex = z.strictObject({
  type: z.literal("sealgate.bundle/1"),
  event: Digest,
  cycles: z
    .array(
      z.strictObject({
        number: z.int().min(1),
        record: Digest,
        seq: z.int().nonnegative(),
        /** The review package's PDF, when the store holds it (see review-pdf.ts). */
        reviewPdf: Digest.optional(),
        /** The OpenSSF model-signing bundle of the approved model's files, when sealed with one. */
        modelSignature: Digest.optional(),
        /** The seal object the record's (v2) ledger entry names. */
        seal: Digest.optional(),
        /**
         * The cycle's ledger events, ledger order, when its seal names them (a ledger-judged
         * cycle): each event object with the seq of the ledger entry that holds it.
         */
        events: z
          .array(z.strictObject({ object: Digest, seq: z.int().nonnegative() }))
          .min(1)
          .max(10_000)
          .optional(),
      }),
    )
    .min(1)
    .max(1000)
    .refine((c) => new Set(c.map((x) => x.number)).size === c.length, "cycle numbers must be unique"),
});
export type BundleIndex = z.infer<typeof BundleIndex>;

/** records/<n>/inclusion.json: RFC 9162 audit path of the entry in the checkpoint's tree. */
export const InclusionFile = z.strictObject({
  index: z.int().nonnegative(),
  size: z.int().min(1),
  hashes: z.array(z.string().regex(/^[0-9a-f]{64}$/)).max(64),
});
export type InclusionFile = z.infer<typeof InclusionFile>;

/** Every object a record names, with what it is (for VERIFY.md and the report). */
export function recordObjects(
  r: PromotionRecord,
  { reviewPdf, modelSignature }: { reviewPdf?: string | undefined; modelSignature?: string | undefined } = {},
): { digest: string; role: string }[] {
  const roles = new Map<string, string>([
    [r.model.manifest, "model manifest: every model file with its SHA-256"],
    [r.request.object, "approval request text the approvers read"],
    [r.explanation.object, `explanation shown to the approvers (${r.explanation.name})`],
    [r.package, "review package the approvers signed"],
    [r.policy.digest, `governance policy ${r.policy.version} that routed and judged this cycle`],
  ]);
  for (const a of r.approvals)
    roles.set(a.assertion, `signed ${a.decision} by ${a.identity.email} as ${a.role}`);
  for (const n of r.annotations)
    roles.set(n.assertion, `signed ${n.kind} by ${n.identity.email} on ${n.section}`);
  if (r.modelCard)
    roles.set(r.modelCard.object, `model card ${r.modelCard.path} as the model team shipped it`);
  if (reviewPdf) roles.set(reviewPdf, "review package as the PDF the approvers read");
  if (modelSignature)
    roles.set(
      modelSignature,
      "OpenSSF model-signing signature of the approved model's files (model_signing verify certificate)",
    );
  const all = new Set([
    ...referencedObjects(r),
    r.package,
    r.policy.digest,
    ...(reviewPdf ? [reviewPdf] : []),
    ...(modelSignature ? [modelSignature] : []),
  ]);
  return [...all].map((digest) => ({ digest, role: roles.get(digest) ?? "referenced object" }));
}

const byteOrder = (a: string, b: string) => Buffer.compare(Buffer.from(a), Buffer.from(b));

/** MANIFEST.sha256 in `sha256sum` format: every file but itself, sorted by name. */
export function manifestText(files: ReadonlyMap<string, Uint8Array>): string {
  return [...files.keys()]
    .filter((p) => p !== MANIFEST)
    .sort(byteOrder)
    .map((p) => `${sha256hex(files.get(p)!)}  ${p}\n`)
    .join("");
}

/** Parse MANIFEST.sha256 strictly: `<64 hex>  <path>` lines, each ending in a newline. */
export function parseManifest(text: string): { entries: Map<string, string>; problems: string[] } {
  const entries = new Map<string, string>();
  const problems: string[] = [];
  if (text && !text.endsWith("\n")) problems.push("the last line does not end with a newline");
  text
    .split("\n")
    .slice(0, text.endsWith("\n") ? -1 : undefined)
    .forEach((line, i) => {
      const m = /^([0-9a-f]{64}) {2}(.+)$/.exec(line);
      if (!m) problems.push(`line ${i + 1} is not "<sha256>  <path>"`);
      else if (entries.has(m[2]!)) problems.push(`line ${i + 1} lists ${m[2]} a second time`);
      else entries.set(m[2]!, m[1]!);
    });
  return { entries, problems };
}
