import { type Checkpoint, parseCheckpoint, verifyCheckpoint } from "../evidence/ledger/checkpoint.js";
import type { Trust } from "../crypto/pki/trust.js";
import { isStrictDerCertificate } from "../crypto/sign/cms.js";
import { validatePath } from "../crypto/pki/validate.js";
import { parsePemCertificates, toPem, type x509 } from "../crypto/pki/x509.js";
import { PromotionRecord } from "../record/schema.js";
import { type Claim, checkClaim } from "./claims.js";
import { BundleFiles, bundleFacts, memberNames, need, parseJsonFile, sha256Of } from "./facts.js";
import { memberRule } from "./limits.js";
import {
  BundleIndex,
  CHECKPOINT_CHAIN,
  CHECKPOINT_NOTE,
  CYCLE_FILES,
  cycleFile,
  INDEX,
  MANIFEST,
  objectPath,
  parseManifest,
  recordObjects,
  SEALING_CHAIN,
  VERIFY_MD,
} from "./layout.js";
import { type LiveLog, verifyLogConsistency } from "./log-consistency.js";
import { verifyCycle } from "./verify-cycle.js";
import { renderVerifyMd } from "./verify-md.js";
import { readZipMembers } from "./zip-read.js";

/*
 * `sealgate verify BUNDLE.zip --ca ROOT.pem`: every claim a bundle makes, each ✓ or ✗ with its
 * reasons. Only the CA the auditor passes is trusted; everything in the zip is input to check.
 */

export interface BundleReport {
  ok: boolean;
  event?: string;
  claims: Claim[];
}

/** Every file a bundle with this index must hold (objects: those its readable records name). */
function expectedFiles(files: ReadonlyMap<string, Uint8Array>, index: BundleIndex): Set<string> {
  const paths = new Set([MANIFEST, INDEX, VERIFY_MD, SEALING_CHAIN, CHECKPOINT_NOTE, CHECKPOINT_CHAIN]);
  for (const c of index.cycles) {
    for (const f of CYCLE_FILES) paths.add(cycleFile(c.number, f));
    try {
      const r = parseJsonFile(files, cycleFile(c.number, "record.json"), PromotionRecord);
      for (const o of recordObjects(r, c.reviewPdf)) paths.add(objectPath(o.digest));
    } catch {
      // An unreadable record is its own claim; its objects cannot be expected.
    }
  }
  return paths;
}

/**
 * A PEM file holding exactly these certificates, in the form sealgate writes, each signed by the
 * next, the last by a certificate you trust (or one of them, byte for byte). Path validation may
 * build through your own copies and never read the bundle's, so each copy is checked here: a
 * changed byte in any of them must not go unnoticed.
 */
async function readChain(
  files: ReadonlyMap<string, Uint8Array>,
  path: string,
  trust: Trust,
): Promise<x509.X509Certificate[]> {
  const text = need(files, path).toString("utf8");
  const certs = parsePemCertificates(text, path);
  if (certs.length === 0) throw new Error(`${path} holds no certificate`);
  if (certs.map((c) => toPem(c.rawData, "CERTIFICATE")).join("") !== text)
    throw new Error(`${path} holds bytes besides its certificates`);
  const der = (c: x509.X509Certificate) => Buffer.from(c.rawData);
  const trusted = [...trust.anchors, ...trust.intermediates];
  for (let i = 0; i < certs.length; i++) {
    const cert = certs[i]!;
    // OpenSSL parses certificates as strict DER, which the JavaScript parser does not: a changed
    // length byte that still decodes must not pass for the certificate that was sealed.
    if (!isStrictDerCertificate(der(cert)))
      throw new Error(`${path}: certificate ${i + 1} is not DER-encoded`);
    if (trust.anchors.some((a) => der(a).equals(der(cert)))) continue;
    const next = certs[i + 1];
    const issuers = next ? [next] : trusted.filter((c) => c.subject === cert.issuer);
    let signed = false;
    for (const issuer of issuers)
      signed ||= await cert.verify({ publicKey: issuer.publicKey, signatureOnly: true }).catch(() => false);
    if (!signed)
      throw new Error(
        `${path}: certificate ${i + 1} ("${cert.subject}") is not signed by ${next ? "the next one" : "a certificate you trust"}`,
      );
  }
  return certs;
}

export async function verifyBundle(
  zip: Buffer | string,
  trust: Trust,
  opts: { log?: LiveLog } = {},
): Promise<BundleReport> {
  const files = new BundleFiles(await readZipMembers(zip, { policyOf: memberRule }));
  const claims: Claim[] = [];

  await checkClaim(
    claims,
    "manifest",
    `every file is listed in ${MANIFEST} with its SHA-256, and intact`,
    (fail) => {
      const { entries, problems } = parseManifest(need(files, MANIFEST).toString("utf8"));
      problems.forEach(fail);
      for (const [path, hash] of entries) {
        const actual = sha256Of(files, path);
        if (!actual) fail(`${path} is listed but missing`);
        else if (actual !== hash) fail(`${path} has changed (its SHA-256 is not the listed one)`);
      }
      for (const path of memberNames(files))
        if (path !== MANIFEST && !entries.has(path)) fail(`${path} is not listed`);
    },
  );
  let index: BundleIndex | undefined;
  const indexOk = await checkClaim(claims, "index", `${INDEX} names the record and its cycles`, () => {
    index = parseJsonFile(files, INDEX, BundleIndex, { canonical: true });
  });
  if (!indexOk || !index) return { ok: false, claims };
  const expected = expectedFiles(files, index);
  await checkClaim(claims, "contents", "the bundle holds exactly the files its records call for", (fail) => {
    const present = new Set(memberNames(files));
    for (const p of expected) if (!present.has(p)) fail(`${p} is missing`);
    for (const p of present) if (!expected.has(p)) fail(`${p} does not belong in this bundle`);
  });
  const event = index.event;

  let checkpoint: Checkpoint | undefined;
  let cpSigner: x509.X509Certificate | undefined;
  await checkClaim(
    claims,
    "checkpoint",
    "the ledger checkpoint is signed by a certificate of your CA",
    async () => {
      const note = need(files, CHECKPOINT_NOTE).toString("utf8");
      checkpoint = parseCheckpoint(note).checkpoint;
      const chain = await readChain(files, CHECKPOINT_CHAIN, trust);
      cpSigner = chain[0];
      const b64 = chain.map((c) => Buffer.from(c.rawData).toString("base64"));
      await verifyCheckpoint({ note, chain: b64 }, trust);
    },
  );

  let sealer: Buffer | undefined;
  await checkClaim(
    claims,
    "certificates",
    `the sealing certificate (${SEALING_CHAIN}) chains to your CA`,
    async (fail) => {
      const [leaf, ...rest] = await readChain(files, SEALING_CHAIN, trust);
      sealer = Buffer.from(leaf!.rawData);
      if (cpSigner && cpSigner.subject !== leaf!.subject)
        fail(`the sealer "${leaf!.subject}" is not the ledger's signer "${cpSigner.subject}"`);
      // The chain is read; a bad record only leaves its validity at sealing time unknown.
      const path = cycleFile(index!.cycles[0]!.number, "record.json");
      let sealedAt: Date;
      try {
        sealedAt = new Date(parseJsonFile(files, path, PromotionRecord).sealedAt);
      } catch {
        return fail(
          `its validity at sealing time is unknown: ${path} is unreadable (see that cycle's record claim)`,
        );
      }
      await validatePath(leaf!, rest, trust, { at: sealedAt, purpose: "sealing" });
    },
  );

  for (const c of index.cycles)
    claims.push(
      ...(await verifyCycle(
        { files, trust, ...(sealer ? { sealer } : {}), ...(checkpoint ? { checkpoint } : {}) },
        c,
      )),
    );

  await checkClaim(
    claims,
    "history",
    "the cycles form one unbroken history, each naming the one before",
    (fail) => {
      const cycles = index!.cycles;
      let model: string | undefined;
      if (cycles[0]!.record !== event)
        fail(`the newest cycle is ${cycles[0]!.record}, not the exported ${event}`);
      cycles.forEach((c, i) => {
        const r = parseJsonFile(files, cycleFile(c.number, "record.json"), PromotionRecord);
        const next = cycles[i + 1];
        model ??= r.model.name;
        if (r.model.name !== model) fail(`cycle ${c.number} is about ${r.model.name}, not ${model}`);
        if ((r.cycle.previous ?? null) !== (next?.record ?? null))
          fail(
            `cycle ${c.number} names ${r.cycle.previous ?? "no earlier cycle"}, the bundle has ${next?.record ?? "none"}`,
          );
        if (next && next.number >= c.number) fail(`cycle ${next.number} comes after cycle ${c.number}`);
      });
    },
  );
  await checkClaim(claims, "instructions", `${VERIFY_MD} holds the instructions for this bundle`, (fail) => {
    if (!need(files, VERIFY_MD).equals(Buffer.from(renderVerifyMd(bundleFacts(files)))))
      fail(`${VERIFY_MD} differs from what this bundle's contents call for`);
  });
  if (opts.log) {
    const log = opts.log;
    await checkClaim(
      claims,
      "log",
      `the live ledger at ${"url" in log ? log.url : log.dir} still contains this checkpoint's tree`,
      (fail) =>
        checkpoint
          ? verifyLogConsistency(log, checkpoint, trust, fail)
          : fail("the bundle's checkpoint is unreadable, so there is nothing to compare"),
    );
  }
  return { ok: claims.every((c) => c.ok), event, claims };
}
