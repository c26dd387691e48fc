import { createHash } from "node:crypto";
import { cp, mkdir, mkdtemp, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { z } from "zod";
import { join } from "node:path";
import { sampleRecord } from "../../src/dev/sample-record.js";
import { SealIndex } from "../../src/evidence/store/seal-index.js";
import { RECORD_JWS_TYP } from "../../src/record/schema.js";
import { FileLedger } from "../../src/evidence/ledger/file-ledger.js";
import { acquireLock } from "../../src/evidence/ledger/lock.js";
import { renderSignedRecordPdf } from "../../src/render/pdf/record-pdf.js";
import { createDevPki, type DevPkiManifest } from "../../src/crypto/pki/dev-pki.js";
import { loadTrust, type Trust } from "../../src/crypto/pki/trust.js";
import { canonicalBytes } from "../../src/record/canonical.js";
import { PromotionRecord, recordBytes, recordDigest } from "../../src/record/schema.js";
import { signApproval } from "../../src/crypto/sign/approval.js";
import { signCmsDetached } from "../../src/crypto/sign/cms.js";
import { signJws } from "../../src/crypto/sign/jws.js";
import { loadSigner } from "../../src/crypto/sign/load.js";
import type { Signer } from "../../src/crypto/sign/signer.js";
import { FsObjectStore } from "../../src/evidence/store/fs-store.js";
import { digestOf } from "../../src/core/digest.js";
import { SEAL_TYPE, sealBytes } from "../../src/record/seal.js";
import { makePng } from "./png.js";

/*
 * N real sealed records for delivery tests: each with a real approver signature, record JWS,
 * CMS .p7s and signed PDF in the store, a seal index entry, a ledger entry, and one signed
 * checkpoint over all of them. Building is slow (one signed PDF per record), so each size is
 * built once per machine into a cache under the temp dir and copied for every caller.
 */

export interface SealedStore {
  /** A fresh copy the caller may change. */
  root: string;
  pki: DevPkiManifest;
  trust: Trust;
  signer: Signer;
  records: string[];
}

// The cache is only valid for the record format it was built with: key it by the schema.
const VERSION = createHash("sha256")
  .update(JSON.stringify(z.toJSONSchema(PromotionRecord, { unrepresentable: "any" })))
  // Ledger v2 entries and seal objects (issue 21).
  .update("ledger v2")
  .digest("hex")
  .slice(0, 12);
const MANIFEST = "manifest.json";

export async function sealedRecords(n: number): Promise<SealedStore> {
  const cache = join(tmpdir(), `sealgate-sealed-records-${VERSION}-${n}`);
  if (!(await stat(join(cache, "DONE")).catch(() => null))) {
    // Test files run in parallel: one builds, the others wait for it instead of racing.
    const lock = await acquireLock(`${cache}.lock`, 3_600_000);
    try {
      if (!(await stat(join(cache, "DONE")).catch(() => null))) await build(cache, n);
    } finally {
      await lock.release();
    }
  }
  const root = await mkdtemp(join(tmpdir(), "sealgate-delivery-"));
  await cp(cache, root, { recursive: true });
  // The manifest names files relative to its directory ("@/"), so any copy works.
  const pki = JSON.parse(
    (await readFile(join(root, "pki", MANIFEST), "utf8")).split("@/").join(`${join(root, "pki")}/`),
  ) as DevPkiManifest;
  const trust = await loadTrust({ anchors: pki.trust.anchors, intermediates: pki.trust.intermediates });
  const signer = await loadSigner({ type: "pem", key: pki.sealing.key, cert: pki.sealing.cert }, "t", {});
  const index = await SealIndex.open(join(root, "store"));
  const records = Array.from({ length: n }, (_, i) => index.get(packageOf(i))!.record);
  return { root: join(root, "store"), pki, trust, signer, records };
}

/** A stand-in review package per record, stored, so the seal object names real bytes. */
const packageBytes = (i: number) => Buffer.from(`{"package":${i}}`);
const packageOf = (i: number) => digestOf(packageBytes(i));

/** Append more sealed records to an existing store (as the sealer would), without a checkpoint. */
export async function sealMore(
  s: { root: string; pki: DevPkiManifest; signer: Signer },
  from: number,
  count: number,
): Promise<string[]> {
  const store = await new FsObjectStore(s.root).init();
  const index = await SealIndex.open(s.root);
  const ledger = await FileLedger.open(join(s.root, "ledger"), { waitMs: 10_000 });
  const approver = s.pki.approvers[0]!;
  const approverSigner = await loadSigner({ type: "pem", key: approver.key, cert: approver.cert }, "a", {});
  const out: string[] = [];
  try {
    for (let i = from; i < from + count; i++) {
      out.push(await sealOne(store, index, ledger, s.signer, approverSigner, approver, i));
    }
  } finally {
    await ledger.close();
  }
  return out;
}

async function build(cache: string, n: number) {
  const work = await mkdtemp(join(tmpdir(), "sealgate-sealed-build-"));
  const pkiDir = join(work, "pki");
  const pki = await createDevPki(pkiDir);
  await writeFile(join(pkiDir, MANIFEST), JSON.stringify(pki).split(`${pkiDir}/`).join("@/"));
  const signer = await loadSigner({ type: "pem", key: pki.sealing.key, cert: pki.sealing.cert }, "t", {});
  const root = join(work, "store");
  await mkdir(root, { recursive: true });
  await sealMore({ root, pki, signer }, 0, n);
  const ledger = await FileLedger.open(join(root, "ledger"));
  await ledger.checkpoint(signer);
  await ledger.close();
  await writeFile(join(work, "DONE"), "");
  await rm(cache, { recursive: true, force: true });
  await rename(work, cache);
}

async function sealOne(
  store: FsObjectStore,
  index: SealIndex,
  ledger: FileLedger,
  signer: Signer,
  approverSigner: Signer,
  approver: DevPkiManifest["approvers"][number],
  i: number,
): Promise<string> {
  const r: PromotionRecord = sampleRecord();
  const png = makePng(32, 32, (x, y) => [(x * 8 + i) & 255, (y * 8) & 255, i & 255]);
  r.model.version = String(i + 1);
  r.model.manifest = await store.put(Buffer.from(`{"files":[{"name":"model.pkl","seed":${i}}]}`));
  r.request.object = await store.put(Buffer.from(`request text for record ${i}`));
  r.explanation = { ...r.explanation, object: await store.put(png), size: png.length };
  r.package = await store.put(packageBytes(i));
  // A first cycle: the sample's previous record is not in this store.
  r.cycle = { number: 1, previous: null, changes: [] };
  r.policy.digest = await store.put(Buffer.from("policy: sealed-records fixture\n"));
  r.modelCard!.object = await store.put(Buffer.from(`intendedUse: fixture ${i}\n`));
  const signedAt = new Date().toISOString();
  const jws = await signApproval(
    {
      type: "sealgate.approval/1",
      model: r.model.name,
      version: r.model.version,
      packageDigest: r.package,
      role: "model-risk",
      decision: "approve",
      comment: "",
      conditions: [],
      signedAt,
    },
    approverSigner,
  );
  r.approvals = [
    {
      role: "model-risk",
      decision: "approve",
      signedAt,
      identity: {
        subject: `CN=${approver.name}`,
        email: approver.email,
        issuer: "CN=Sealgate Dev Issuing CA, O=Sealgate Demo Org",
        fingerprint: approver.fingerprint,
      },
      assertion: await store.put(Buffer.from(jws, "utf8")),
    },
  ];
  r.sealedAt = new Date().toISOString();
  const bytes = recordBytes(r);
  const digest = recordDigest(r);
  await store.put(bytes);
  const jwsObj = await store.put(canonicalBytes(await signJws(bytes, signer, RECORD_JWS_TYP), "record JWS"));
  const p7s = await store.put(await signCmsDetached(bytes, signer, new Date(r.sealedAt)));
  const pdf = await store.put(
    await renderSignedRecordPdf(
      {
        kind: "sealed-record",
        record: r,
        digest,
        explanation: { bytes: png, mediaType: "image/png" },
        approvals: [],
        attachments: [
          { name: "record.json", bytes, mimeType: "application/json", description: "the record" },
        ],
      },
      signer,
    ),
  );
  await index.add({
    package: r.package,
    record: digest,
    jws: jwsObj,
    p7s,
    pdf,
    model: r.model.name,
    version: r.model.version,
    decision: "approved",
  });
  const seal = await store.put(
    sealBytes({
      type: SEAL_TYPE,
      record: digest,
      jws: jwsObj,
      cms: p7s,
      pdf,
      package: r.package,
      policy: r.policy.digest,
    }),
  );
  await ledger.append({ kind: "record", object: digest, seal });
  return digest;
}
