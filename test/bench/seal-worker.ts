import { createHash } from "node:crypto";
import { parentPort, workerData } from "node:worker_threads";
import { sampleRecord } from "../../src/dev/sample-record.js";
import { DEMO_APPROVERS } from "../../src/pki/dev-pki.js";
import { renderSignedRecordPdf } from "../../src/pdf/record-pdf.js";
import { canonicalBytes } from "../../src/record/canonical.js";
import { type PromotionRecord, recordBytes, recordDigest } from "../../src/record/schema.js";
import { signCmsDetached } from "../../src/sign/cms.js";
import { signJws } from "../../src/sign/jws.js";
import { loadSigner } from "../../src/sign/load.js";
import { FsObjectStore } from "../../src/store/fs-store.js";
import { makePng } from "../support/png.js";

/*
 * One sealing thread of the seal benchmark: for each record number it is sent, the steps of
 * sealVersion (src/governance/sealer.ts) after the approvals are verified: store each approval
 * assertion and the policy, assemble the record (RFC 8785), store it, sign it as JWS and CMS,
 * read the explanation and manifest back, render and PAdES-sign the PDF, store it. It answers
 * with the record digest; the parent appends it to the ledger (one writer). With `pdf: false`
 * it skips the PDF, to show what the rest of sealing costs.
 */

const {
  store: root,
  key,
  cert,
  pdf: withPdf,
} = workerData as { store: string; key: string; cert: string; pdf: boolean };
const store = await new FsObjectStore(root).init();
const signer = await loadSigner({ type: "pem", key, cert }, "bench.sealing");
const CHAIN = ["data-governance", "model-risk", "fair-lending", "ai-committee"];
const png = makePng(300, 300, (x, y) => [255 - (x % 200), 120, (y % 200) + 40]);
// Stored at review time, before the sealer runs: the explanation, the request, the manifest and the model card.
const explanation = await store.put(png);
const manifest = await store.put(Buffer.from('{"files":[],"root":"sha256:…"}'));
const request = await store.put(Buffer.from("Adds tenure_months; AUC +3 points on eval_credit3."));
const modelCard = await store.put(
  Buffer.from("intended_use: Scoring retail credit applications in the EU\n"),
);
const policy = Buffer.from("version: 2026-11\n# the policy file the record names\n");

async function seal(n: number): Promise<string> {
  const base = sampleRecord();
  const signedAt = (i: number) => new Date(Date.parse("2026-11-21T09:00:00Z") + i * 60_000).toISOString();
  const people = CHAIN.map((role, i) => {
    const who = DEMO_APPROVERS[i]!;
    return {
      role,
      who,
      fingerprint: createHash("sha256").update(who.email).digest("hex"),
      jws: `eyJhbGciOiJFUzI1NiJ9.${Buffer.from(`approval of record ${n} by ${who.email}`).toString("base64url")}.sig`,
    };
  });
  const approvals = await Promise.all(
    people.map(async (p, i) => ({
      role: p.role,
      decision: "approve" as const,
      signedAt: signedAt(i),
      identity: {
        subject: `CN=${p.who.name}, O=Example Bank`,
        email: p.who.email,
        issuer: "CN=Sealgate Dev Issuing CA",
        fingerprint: p.fingerprint,
      },
      assertion: await store.put(Buffer.from(p.jws)),
    })),
  );
  const record: PromotionRecord = {
    ...base,
    model: { ...base.model, version: String(n + 1), manifest },
    request: { ...base.request, object: request },
    explanation: { ...base.explanation, object: explanation, size: png.length },
    materiality: { ...base.materiality, chain: CHAIN },
    policy: { ...base.policy, digest: await store.put(policy) },
    modelCard: base.modelCard && { ...base.modelCard, object: modelCard },
    approvals,
    sealedAt: new Date().toISOString(),
  };
  const bytes = recordBytes(record);
  const digest = recordDigest(record);
  await store.put(bytes);
  await store.put(canonicalBytes(await signJws(bytes, signer, "vnd.sealgate.record+jws"), "record JWS"));
  await store.put(await signCmsDetached(bytes, signer, new Date(record.sealedAt)));
  if (!withPdf) return digest;
  const pdf = await renderSignedRecordPdf(
    {
      kind: "sealed-record",
      record,
      digest,
      explanation: { bytes: await store.get(explanation), mediaType: "image/png" },
      approvals: approvals.map((a, i) => ({
        ...a.identity,
        role: a.role,
        decision: a.decision,
        signedAt: a.signedAt,
        comment: i % 2 ? "Deltas within band; disparate impact ratio 0.91." : "",
      })),
      thresholds: { auc: { min: 0.85 } },
      attachments: [
        { name: "record.json", bytes, mimeType: "application/json", description: "the sealed record" },
        ...people.map((p, i) => ({
          name: `approval-${i + 1}-${p.role}.jws`,
          bytes: Buffer.from(p.jws),
          mimeType: "application/jose",
          description: `${p.who.email}'s signed approve`,
        })),
        {
          name: "model-manifest.json",
          bytes: await store.get(manifest),
          mimeType: "application/json",
          description: "every model file with its SHA-256",
        },
      ],
    },
    signer,
  );
  await store.put(pdf);
  return digest;
}

parentPort!.on("message", (n: number) => {
  seal(n).then(
    (digest) => parentPort!.postMessage({ n, digest }),
    (err: unknown) => parentPort!.postMessage({ n, error: String((err as Error).stack ?? err) }),
  );
});
parentPort!.postMessage({ ready: true });
