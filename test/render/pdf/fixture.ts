import { createHash } from "node:crypto";
import { sampleRecord } from "../../../src/dev/sample-record.js";
import type { RecordPdfInput } from "../../../src/render/pdf/record-pdf.js";
import { recordBytes, recordDigest } from "../../../src/record/schema.js";
import { makePng } from "../../support/png.js";

const NAMES = [
  ["Ada Lovelace", "ada.lovelace@example.org"],
  ["Zoë Ångström", "zoe.angstrom@example.org"],
  ["李雷", "li.lei@example.org"],
  ["Ægir Þórsson", "aegir.thorsson@example.org"],
  ["ليلى حداد", "layla.haddad@example.org"],
] as const;

/** Everything a sealed record PDF shows, with `approvals` approvers and an explanation PNG of about `pngBytes`. */
export function pdfInput(
  opts: { approvals?: number; pngSide?: number; noise?: boolean } = {},
): RecordPdfInput {
  const record = sampleRecord();
  const side = opts.pngSide ?? 300;
  const png = makePng(side, side, (x, y) =>
    opts.noise
      ? [(x * 7919 + y * 104729) % 251, (x * y) % 253, (x ^ y) & 255]
      : [255 - (x % 200), 120, (y % 200) + 40],
  );
  record.explanation.size = png.length;
  const approvals = Array.from({ length: opts.approvals ?? 3 }, (_, i) => {
    const [name, email] = NAMES[i % NAMES.length]!;
    return {
      role: ["on-call", "data-governance", "model-risk", "fair-lending", "ai-committee"][i % 5]!,
      decision: "approve",
      signedAt: new Date(Date.parse("2026-11-21T09:00:00Z") + i * 60_000).toISOString(),
      comment:
        i % 2
          ? `Reviewed section ${i}: disparate impact ratio 0.91 within band. Kommentar für Zyklus ${i}.`
          : "",
      subject: `CN=${name}, O=Example Bank`,
      email,
      issuer: "CN=Example Bank Issuing CA, O=Example Bank",
      fingerprint: createHash("sha256").update(`cert ${i}`).digest("hex"),
    };
  });
  return {
    kind: "sealed-record",
    record,
    digest: recordDigest(record),
    explanation: { bytes: png, mediaType: "image/png" },
    seal: {
      subject: "CN=sealgate evidence sealing, O=Example Bank",
      fingerprint: createHash("sha256").update("sealing cert").digest("hex"),
    },
    approvals,
    history: [
      {
        cycle: 1,
        decision: "rejected",
        record: `sha256:${"4".repeat(64)}`,
        changes: [
          {
            path: "request.knownLimitations",
            kind: "changed",
            before: "none",
            after: record.request.knownLimitations,
          },
          { path: "challenger.candidate.fairness_dir", kind: "added", after: "0.91" },
        ],
      },
    ],
    thresholds: { auc: { min: 0.85 } },
    attachments: [
      {
        name: "record.json",
        bytes: recordBytes(record),
        mimeType: "application/json",
        description: "the canonical record (RFC 8785)",
      },
      {
        name: "model-manifest.json",
        bytes: Buffer.from('{"files":[]}'),
        mimeType: "application/json",
        description: "per-file model manifest",
      },
    ],
  };
}
