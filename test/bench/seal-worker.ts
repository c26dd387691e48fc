import { createHash } from "node:crypto";
import { parentPort, workerData } from "node:worker_threads";
import { sampleRecord } from "../../src/dev/sample-record.js";
import { DEMO_APPROVERS } from "../../src/crypto/pki/dev-pki.js";
import { storeSealedRecord } from "../../src/governance/seal/sealer.js";
import type { VerifiedAssertion } from "../../src/policy/chain.js";
import { canonicalBytes } from "../../src/record/canonical.js";
import { type PromotionRecord, RECORD_JWS_TYP, recordBytes } from "../../src/record/schema.js";
import { signCmsDetached } from "../../src/crypto/sign/cms.js";
import { signJws } from "../../src/crypto/sign/jws.js";
import { loadSigner } from "../../src/crypto/sign/load.js";
import { FsObjectStore } from "../../src/evidence/store/fs-store.js";
import { digestOf } from "../../src/core/digest.js";
import { makePng } from "../support/png.js";

/*
 * The seal benchmark's sealer: for each record number, the steps of sealVersion
 * (src/governance/seal/sealer.ts) after the approvals are verified: store each approval assertion
 * and the policy, assemble the record, then storeSealedRecord (the sealer's own code: RFC 8785
 * bytes, JWS, CMS, the PDF rendered and PAdES-signed, each stored). It answers with the record
 * digest, which the caller appends to the ledger (one writer). Run in the benchmark's own
 * thread, as the daemon seals, or in sealing threads. With `pdf: false` it does the same
 * without the PDF, to show what the rest of sealing costs.
 */

const CHAIN = ["data-governance", "model-risk", "fair-lending", "ai-committee"];

export interface SealerOptions {
  store: string;
  key: string;
  cert: string;
  pdf: boolean;
}

/** A function sealing record number `n`, answering its digest; `seal.ts` runs it in-process or in a thread. */
export async function recordSealer({ store: root, key, cert, pdf: withPdf }: SealerOptions) {
  const store = await new FsObjectStore(root).init();
  const signer = await loadSigner({ type: "pem", key, cert }, "bench.sealing");
  const png = makePng(300, 300, (x, y) => [255 - (x % 200), 120, (y % 200) + 40]);
  // Stored at review time, before the sealer runs: the explanation, the request, the manifest and the model card.
  const explanation = await store.put(png);
  const manifest = await store.put(Buffer.from('{"files":[],"root":"sha256:…"}'));
  const request = await store.put(Buffer.from("Adds tenure_months; AUC +3 points on eval_credit3."));
  const modelCard = await store.put(
    Buffer.from("intended_use: Scoring retail credit applications in the EU\n"),
  );
  const policy = Buffer.from("version: 2026-11\n# the policy file the record names\n");
  return seal;

  async function seal(n: number): Promise<string> {
    const base = sampleRecord();
    const signedAt = (i: number) => new Date(Date.parse("2026-11-21T09:00:00Z") + i * 60_000).toISOString();
    const counted: VerifiedAssertion[] = CHAIN.map((role, i) => {
      const who = DEMO_APPROVERS[i]!;
      return {
        assertion: {
          type: "sealgate.approval/1",
          model: base.model.name,
          version: String(n + 1),
          packageDigest: base.package,
          role,
          decision: "approve",
          comment: i % 2 ? "Deltas within band; disparate impact ratio 0.91." : "",
          conditions: [],
          signedAt: signedAt(i),
        },
        identity: {
          subject: `CN=${who.name}, O=Example Bank`,
          email: who.email,
          issuer: "CN=Sealgate Dev Issuing CA",
          fingerprint: createHash("sha256").update(who.email).digest("hex"),
        },
        jws: `eyJhbGciOiJFUzI1NiJ9.${Buffer.from(`approval of record ${n} by ${who.email}`).toString("base64url")}.sig`,
      };
    });
    // As sealVersion does once the chain is complete: the assertions, then the record and its seals.
    const approvals = await Promise.all(
      counted.map(async (a) => ({
        role: a.assertion.role,
        decision: a.assertion.decision,
        signedAt: a.assertion.signedAt,
        identity: a.identity,
        assertion: await store.put(Buffer.from(a.jws)),
      })),
    );
    const record: PromotionRecord = {
      ...base,
      model: { ...base.model, version: String(n + 1), manifest },
      request: { ...base.request, object: request },
      explanation: { ...base.explanation, object: explanation, size: png.length },
      materiality: { ...base.materiality, chain: CHAIN },
      // A first review cycle: no earlier record to read for the PDF's history.
      cycle: { number: 1, previous: null, changes: [] },
      policy: { ...base.policy, digest: digestOf(policy) },
      modelCard: base.modelCard && { ...base.modelCard, object: modelCard },
      approvals,
      sealedAt: new Date().toISOString(),
    };
    if (!withPdf) {
      const bytes = recordBytes(record);
      await Promise.all([
        store.put(policy),
        store.put(bytes),
        signJws(bytes, signer, RECORD_JWS_TYP).then((j) => store.put(canonicalBytes(j, "record JWS"))),
        signCmsDetached(bytes, signer, new Date(record.sealedAt)).then((c) => store.put(c)),
      ]);
      return digestOf(bytes);
    }
    const [, sealed] = await Promise.all([
      store.put(policy),
      storeSealedRecord({ store, signer }, record, counted, { auc: { min: 0.85 } }),
    ]);
    return sealed.digest;
  }
}

// In a sealing thread: seal each record number the parent sends.
if (parentPort && (workerData as { sealWorker?: boolean } | undefined)?.sealWorker) {
  const seal = await recordSealer(workerData as SealerOptions);
  parentPort.on("message", (n: number) => {
    seal(n).then(
      (digest) => parentPort!.postMessage({ n, digest }),
      (err: unknown) => parentPort!.postMessage({ n, error: String((err as Error).stack ?? err) }),
    );
  });
  parentPort.postMessage({ ready: true });
}
