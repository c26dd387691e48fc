import { SEAL_TYPE, sealBytes } from "../../src/record/seal.js";
import { mkdtemp, readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readStore } from "../../src/app/store.js";
import { exportBundle } from "../../src/bundle/export.js";
import { renderReviewPdf } from "../../src/governance/seal/seal-pdf.js";
import { SealIndex } from "../../src/evidence/store/seal-index.js";
import { RECORD_JWS_TYP } from "../../src/record/schema.js";
import { FileLedger } from "../../src/evidence/ledger/file-ledger.js";
import { renderSignedRecordPdf } from "../../src/render/pdf/record-pdf.js";
import { parsePolicy } from "../../src/policy/schema.js";
import { canonicalBytes } from "../../src/record/canonical.js";
import {
  type PromotionRecord,
  packageDigest,
  recordBytes,
  recordDigest,
  type ReviewPackage,
} from "../../src/record/schema.js";
import { type ApprovalAssertion, signApproval } from "../../src/crypto/sign/approval.js";
import { signEvent } from "../../src/crypto/sign/event.js";
import { fingerprint } from "../../src/crypto/pki/x509.js";
import { appendEvent } from "../../src/governance/events/append.js";
import type { Digest } from "../../src/core/digest.js";
import { signCmsDetached } from "../../src/crypto/sign/cms.js";
import { signJws } from "../../src/crypto/sign/jws.js";
import { loadSigner } from "../../src/crypto/sign/load.js";
import { FsObjectStore } from "../../src/evidence/store/fs-store.js";
import type { KeySpec } from "../../src/crypto/pki/keys.js";
import { devPki } from "../support/pki.js";
import { startTsa } from "../support/tsa.js";
import { httpTimestamper } from "../../src/crypto/sign/timestamp.js";
import { withTimestamper } from "../../src/crypto/sign/signer.js";
import { makePng } from "../support/png.js";

/*
 * A store with real sealed cycles, made without MLflow (the pipeline test covers MLflow): the
 * same objects, approver e-signatures, seals and ledger entries the sealer writes. Model
 * "credit-risk" v3 is rejected in cycle 1 and approved in cycle 2; "fraud-detector" v7 is a
 * second, unrelated event (for swapping objects between bundles).
 */

const ISSUER = "CN=Sealgate Dev Issuing CA, O=Sealgate Demo Org";
const CHAIN = ["data-governance", "model-risk", "fair-lending", "ai-committee"];
const PEOPLE = [
  "zoe.angstrom@example.org",
  "li.lei@example.org",
  "aegir.thorsson@example.org",
  "layla.haddad@example.org",
];

/**
 * With `tsa`, every CMS seal, PDF seal and the checkpoint are time-stamped by the test TSA. With
 * `ledgerJudged`, "loan-pricing" v1 is also sealed from ledger events (events.ledgerJudged): each
 * approval appended as a signed event, model-risk's signer claiming a signedAt before
 * data-governance's though it acted after, and the seal object naming the events.
 */
export async function sealedStore(
  spec: KeySpec = "ec-p256",
  opts: {
    tsa?: boolean;
    ledgerJudged?: boolean;
    /**
     * The review PDF approvals after the first cycle sign: the one stored (default), another,
     * or none (a store from before approvals signed it).
     */
    signedReviewPdf?: "shown" | "another" | "none";
  } = {},
) {
  const { pki, trust } = await devPki(spec);
  const root = await mkdtemp(join(tmpdir(), "sealgate-bundle-store-"));
  const store = await new FsObjectStore(root).init();
  const ledger = await FileLedger.open(join(root, "ledger"));
  const index = await SealIndex.open(root);
  const keySigner = await loadSigner(
    { type: "pem", key: pki.sealing.key, cert: pki.sealing.cert },
    "sealing",
  );
  const tsa = opts.tsa ? await startTsa(pki) : undefined;
  const stamper = tsa && httpTimestamper({ url: tsa.url, required: true }, { trust });
  const sealer = stamper ? withTimestamper(keySigner, stamper) : keySigner;
  const person = (email: string) => pki.approvers.find((a) => a.email === email)!;
  const example = await readFile(join(import.meta.dirname, "../../config/policy.example.yaml"), "utf8");
  const approvers = CHAIN.map(
    (role, i) =>
      `  - { name: ${PEOPLE[i]}, roles: [${role}], subject: "CN=${person(PEOPLE[i]!).name}, O=Sealgate Demo Org", issuer: "${ISSUER}", effectiveFrom: "2026-01-01T00:00:00Z" }`,
  ).join("\n");
  const policy = parsePolicy(
    Buffer.from(example.replace(/approvers:[\s\S]*?(?=\n# Model owners)/, `approvers:\n${approvers}\n`)),
    "policy.yaml",
  );
  const png = makePng(64, 64, (x, y) => [x * 4, y * 4, 128]);

  /** Each decision as a signed ledger event, in the order given (the chain's): their digests. */
  async function appendEvents(
    pkgDigest: string,
    signed: { assertion: ApprovalAssertion; jws: string; identity: { email: string } }[],
    cycle: number,
  ): Promise<Digest[]> {
    const deps = {
      store,
      ledger,
      trust,
      sealing: [await fingerprint(keySigner.chain[0]!)],
      // The fixture's claimed times are hours back (certificates are valid from a day ago).
      maxClockSkew: 86_400,
    };
    const out: Digest[] = [];
    for (const s of signed) {
      const who = person(s.identity.email);
      const signer = await loadSigner({ type: "pem", key: who.key, cert: who.cert }, "approver");
      const a = s.assertion;
      const event = await signEvent(
        {
          type: "sealgate.event/1",
          kind: a.decision === "approve" ? "approval" : "rejection",
          model: a.model,
          version: a.version,
          cycle,
          actor: s.identity.email,
          claimedTime: a.signedAt,
          package: pkgDigest as Digest,
          role: a.role,
          assertion: await store.put(Buffer.from(s.jws)),
        },
        signer,
      );
      out.push((await appendEvent(deps, event.jws)).digest);
    }
    return out;
  }

  async function seal(
    model: string,
    version: string,
    cycle: number,
    previous: string | null,
    decisions: string[],
    withEvents = false,
  ) {
    // Relative to now: the dev PKI's certificates are valid from a day ago.
    const t0 = Math.floor(Date.now() / 60_000) * 60_000 - 6 * 3_600_000 + cycle * 3_600_000;
    const at = (m: number) => new Date(t0 + m * 60_000).toISOString();
    const request = {
      justification: `cycle ${cycle} of ${model}`,
      scope: "retail, EU",
      intendedDeployment: "batch",
      knownLimitations: "thin files",
    };
    const pkg: ReviewPackage = {
      type: "sealgate.review-package/1",
      model: {
        registry: "http://mlflow.test:5000",
        name: model,
        version,
        source: `models:/${model}/${version}`,
        runId: "0123456789abcdef",
        contentDigest: `sha256:${"a".repeat(64)}`,
        manifest: await store.put(canonicalBytes({ files: [], model, version }, "manifest")),
      },
      challenger: {
        against: "none",
        alias: null,
        name: null,
        version: null,
        contentDigest: null,
        evaluationSet: "eval",
        candidate: { auc: 0.9 },
        challenger: {},
        delta: {},
      },
      request: { object: await store.put(canonicalBytes(request, "request")), ...request },
      explanation: {
        object: await store.put(png),
        mediaType: "image/png",
        name: "shap.png",
        size: png.length,
      },
      dataset: {
        contentAddressed: false,
        name: "eval",
        context: "eval",
        reason: "not reachable",
        mlflowDigest: "x",
        mlflowSource: "y",
      },
      materiality: { tier: "material", reasons: ["test"], chain: CHAIN },
      policy: { digest: await store.put(policy.bytes), version: policy.policy.version },
      featurePipeline: null,
      modelCard: null,
      cycle: { number: cycle, previous, changes: [] },
      observedAt: at(0),
    };
    const pkgDigest = packageDigest(pkg);
    await store.put(canonicalBytes(pkg, "package"));
    // What `sealgate review` stored for the approvers to read (as a store from before the
    // seal index recorded it: export finds it by its document ID). The first cycle's approvals
    // predate signing it, as older assertions do; later ones sign its digest.
    const shownPdf = await store.put(await renderReviewPdf(store, pkg, pkgDigest, policy.policy.thresholds));
    const reviewPdf =
      cycle === 1 || opts.signedReviewPdf === "none"
        ? undefined
        : opts.signedReviewPdf === "another"
          ? await store.put(Buffer.from(`another review PDF of ${model} v${version}`))
          : shownPdf;
    const signed = await Promise.all(
      decisions.map(async (decision, i) => {
        const who = person(PEOPLE[i]!);
        const signer = await loadSigner({ type: "pem", key: who.key, cert: who.cert }, "approver");
        const assertion = {
          type: "sealgate.approval/1" as const,
          model,
          version,
          packageDigest: pkgDigest,
          ...(reviewPdf ? { reviewPdf } : {}),
          role: CHAIN[i]!,
          decision: decision as "approve",
          comment: "",
          conditions: [],
          // Ledger-judged: model-risk (i = 1) claims a time before data-governance's.
          signedAt: at(withEvents && i < 2 ? 2 - i : i + 1),
        };
        const jws = await signApproval(assertion, signer);
        return {
          assertion,
          jws,
          identity: {
            subject: who.name,
            email: who.email,
            fingerprint: who.fingerprint,
            cert: signer.chain[0]!,
          },
        };
      }),
    );
    const events = withEvents ? await appendEvents(pkgDigest, signed, cycle) : undefined;
    const { type: _t, ...fields } = pkg;
    const record: PromotionRecord = {
      ...fields,
      type: "sealgate.promotion-record/1",
      package: pkgDigest,
      annotations: [],
      approvals: await Promise.all(
        signed.map(async (s) => ({
          role: s.assertion.role,
          decision: s.assertion.decision,
          signedAt: s.assertion.signedAt,
          identity: {
            subject: s.identity.cert.subject,
            email: s.identity.email,
            issuer: s.identity.cert.issuer,
            fingerprint: s.identity.fingerprint,
          },
          assertion: await store.put(Buffer.from(s.jws)),
        })),
      ),
      decision: decisions.includes("reject") ? "rejected" : "approved",
      conditions: [],
      sealedAt: at(30),
    };
    const bytes = recordBytes(record);
    const digest = recordDigest(record);
    await store.put(bytes);
    const jws = await store.put(canonicalBytes(await signJws(bytes, sealer, RECORD_JWS_TYP), "jws"));
    const p7s = await store.put(await signCmsDetached(bytes, sealer, new Date(record.sealedAt)));
    const pdf = await store.put(
      await renderSignedRecordPdf(
        {
          kind: "sealed-record",
          record,
          digest,
          explanation: { bytes: png, mediaType: "image/png" },
          approvals: record.approvals.map((a) => ({
            ...a.identity,
            role: a.role,
            decision: a.decision,
            signedAt: a.signedAt,
            comment: "",
          })),
          attachments: [
            { name: "record.json", bytes, mimeType: "application/json", description: "the record" },
          ],
        },
        sealer,
      ),
    );
    await index.add({
      package: pkgDigest,
      record: digest,
      jws,
      p7s,
      pdf,
      model,
      version,
      decision: record.decision,
      ...(events ? { events } : {}),
    });
    const seal = await store.put(
      sealBytes({
        type: SEAL_TYPE,
        record: digest,
        jws,
        cms: p7s,
        pdf,
        package: pkgDigest,
        policy: record.policy.digest,
        ...(events ? { events } : {}),
      }),
    );
    await ledger.append({ kind: "record", object: digest, seal });
    return digest;
  }

  const rejected = await seal("credit-risk", "3", 1, null, ["approve", "reject"]);
  const approved = await seal("credit-risk", "3", 2, rejected, ["approve", "approve", "approve", "approve"]);
  const other = await seal("fraud-detector", "7", 1, null, ["approve", "approve", "approve", "approve"]);
  const ledgerJudged = opts.ledgerJudged
    ? await seal("loan-pricing", "1", 1, null, ["approve", "approve", "approve", "approve"], true)
    : undefined;
  await ledger.checkpoint(sealer);
  await stamper?.close();
  await tsa?.stop();
  // The TSA is gone now: later signing in a test (a new checkpoint, say) is not time-stamped.
  return { root, pki, trust, ledger, sealer: keySigner, events: { rejected, approved, other, ledgerJudged } };
}

export type SealedStore = Awaited<ReturnType<typeof sealedStore>>;

export const exportOf = async (s: SealedStore, event: string) =>
  exportBundle({ ...readStore(s.root), index: await SealIndex.open(s.root) }, { event });
