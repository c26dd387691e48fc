import { z } from "zod";
import { RECORD_JWS_TYP } from "../record/schema.js";
import type { Checkpoint } from "../evidence/ledger/checkpoint.js";
import { parseEntry } from "../evidence/ledger/ledger.js";
import { SealgateError } from "../core/errors.js";
import { leafHash, verifyInclusion } from "../evidence/ledger/merkle.js";
import { verifyPdfSignature } from "../crypto/sign/pdf-signature.js";
import type { Trust } from "../crypto/pki/trust.js";
import type { x509 } from "../crypto/pki/x509.js";
import { canonicalBytes } from "../record/canonical.js";
import { PromotionRecord } from "../record/schema.js";
import { verifyCmsDetached } from "../crypto/sign/cms.js";
import { verifyJws } from "../crypto/sign/jws.js";
import { type Claim, checkClaim } from "./claims.js";
import { verifyGovernance } from "./verify-governance.js";
import { need, parseJsonFile, sha256Of } from "./facts.js";
import { checkJsonDepth } from "./limits.js";
import { documentIdOf, pdfId } from "../crypto/sign/pdf-id.js";
import { type BundleIndex, cycleFile, InclusionFile, objectPath, recordObjects } from "./layout.js";
import { digestOf } from "../core/digest.js";

/*
 * The claims of one cycle: its record, its three seals, the objects it names, the review
 * package, each approver's signature, the approval order under the sealed policy, and its
 * ledger entry's inclusion in the checkpoint.
 */

export interface CycleContext {
  files: ReadonlyMap<string, Uint8Array>;
  trust: Trust;
  /** DER of the bundle's sealing certificate (certs/sealing-chain.pem), when readable. */
  sealer?: Buffer;
  checkpoint?: Checkpoint;
}

const Flattened = z.strictObject({ protected: z.string(), payload: z.string(), signature: z.string() });
const der = (c: x509.X509Certificate) => Buffer.from(c.rawData);

function sameSealer(ctx: CycleContext, signer: x509.X509Certificate, fail: (r: string) => void) {
  if (!ctx.sealer) fail("the bundle's sealing certificate (certs/sealing-chain.pem) is unreadable");
  else if (!der(signer).equals(ctx.sealer))
    fail(`signed by "${signer.subject}", not by the bundle's sealing certificate`);
}

/**
 * Run a signature library over a bundle member: its own errors name what it checked (a
 * SealgateError); anything else is an internal message, turned into a sentence about the member.
 */
async function inBundle<T>(path: string, what: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof SealgateError) throw err;
    throw new SealgateError(
      "BUNDLE_INVALID",
      `${path} could not be checked as a ${what} (the verifier reported: ${(err as Error).message})`,
      { cause: err },
    );
  }
}

function readRecord(files: CycleContext["files"], c: BundleIndex["cycles"][number]) {
  const bytes = need(files, cycleFile(c.number, "record.json"));
  return { bytes, record: parseJsonFile(files, cycleFile(c.number, "record.json"), PromotionRecord) };
}

export async function verifyCycle(ctx: CycleContext, c: BundleIndex["cycles"][number]): Promise<Claim[]> {
  const claims: Claim[] = [];
  const { files, trust } = ctx;
  const id = (s: string) => `cycle-${c.number}.${s}`;
  const f = (name: Parameters<typeof cycleFile>[1]) => cycleFile(c.number, name);
  const label = `cycle ${c.number}:`;
  let rec: ReturnType<typeof readRecord> | undefined;

  await checkClaim(claims, id("record"), `${label} the record is intact and is ${c.record}`, (fail) => {
    rec = readRecord(files, c);
    if (!Buffer.from(canonicalBytes(rec.record)).equals(rec.bytes))
      fail("record.json is not in canonical RFC 8785 form");
    const digest = digestOf(rec.bytes);
    if (digest !== c.record) fail(`record.json hashes to ${digest}`);
    if (rec.record.cycle.number !== c.number) fail(`the record says cycle ${rec.record.cycle.number}`);
  });
  const at = rec ? new Date(rec.record.sealedAt) : new Date(NaN);

  await checkClaim(
    claims,
    id("jws"),
    `${label} the record's JWS seal verifies and chains to your CA`,
    async (fail) => {
      const jws = parseJsonFile(files, f("record.jws"), Flattened);
      if (!Buffer.from(canonicalBytes(jws)).equals(need(files, f("record.jws"))))
        fail("record.jws is not in canonical RFC 8785 form");
      const v = await inBundle(f("record.jws"), "JWS", () =>
        verifyJws(jws, trust, { purpose: "sealing", at, typ: RECORD_JWS_TYP }),
      );
      if (!rec || !Buffer.from(v.payload).equals(rec.bytes)) fail("the JWS payload is not record.json");
      sameSealer(ctx, v.signer, fail);
    },
  );
  await checkClaim(
    claims,
    id("cms"),
    `${label} the record's CMS seal (.p7s) verifies and chains to your CA`,
    async (fail) => {
      if (!rec) return fail("record.json is unreadable, so there is nothing to check the signature over");
      const p7s = need(files, f("record.p7s"));
      const v = await inBundle(f("record.p7s"), "CMS signature", () =>
        verifyCmsDetached(p7s, rec!.bytes, trust),
      );
      sameSealer(ctx, v.signer, fail);
    },
  );
  await checkClaim(
    claims,
    id("pdf"),
    `${label} the signed PDF is intact, sealed, and shows this record`,
    async (fail) => {
      const pdf = need(files, f("record.pdf"));
      const v = await inBundle(f("record.pdf"), "signed PDF", () => verifyPdfSignature(pdf, trust));
      sameSealer(ctx, v.signer, fail);
      if (pdfId(pdf) !== documentIdOf(c.record)) fail("the PDF's document ID is not this record's digest");
    },
  );
  await checkClaim(
    claims,
    id("objects"),
    `${label} every object the record names is present and intact`,
    (fail) => {
      if (!rec) return fail("no readable record to read the object list from");
      for (const o of recordObjects(rec.record, c.reviewPdf)) {
        const actual = sha256Of(files, objectPath(o.digest));
        if (!actual) fail(`${o.digest} (${o.role}) is missing`);
        else if (actual !== o.digest.slice(7)) fail(`${o.digest} (${o.role}) does not hash to its name`);
      }
    },
  );
  claims.push(...(await verifyGovernance(files, trust, c, rec?.record)));
  await checkClaim(
    claims,
    id("inclusion"),
    `${label} the ledger entry names the record and is in the signed checkpoint`,
    (fail) => {
      const line = need(files, f("entry.json"));
      checkJsonDepth(line, f("entry.json"));
      const entry = parseEntry(line);
      if (!entry) return fail("entry.json is not a canonical ledger entry");
      if (entry.record !== c.record) fail(`the entry names ${entry.record}`);
      if (entry.seq !== c.seq) fail(`the entry is number ${entry.seq}, bundle.json says ${c.seq}`);
      const proof = parseJsonFile(files, f("inclusion.json"), InclusionFile, { canonical: true });
      if (!Buffer.from(canonicalBytes(proof)).equals(need(files, f("inclusion.json"))))
        fail("inclusion.json is not canonical");
      if (!ctx.checkpoint) return fail("the checkpoint is unreadable");
      const { size, root } = ctx.checkpoint;
      if (proof.index !== entry.seq || proof.size !== size)
        fail(`the proof is for entry ${proof.index} of ${proof.size}`);
      const hashes = proof.hashes.map((h) => Buffer.from(h, "hex"));
      if (!verifyInclusion(entry.seq, size, leafHash(line), hashes, root))
        fail(`the inclusion proof does not lead to the checkpoint's root (size ${size})`);
    },
  );
  return claims;
}
