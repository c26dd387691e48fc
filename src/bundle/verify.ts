import type { Trust } from "../crypto/pki/trust.js";
import { type Finding, finding } from "../evidence/verify/findings.js";
import { Verifier } from "../evidence/verify/verifier.js";
import { canonicalBytes } from "../record/canonical.js";
import { PromotionRecord } from "../record/schema.js";
import { type Claim, claim, readFinding } from "./claims.js";
import { BundleFiles, memberNames, need, parseJsonFile, sha256Of } from "./facts.js";
import { memberRule } from "./limits.js";
import {
  BundleIndex,
  CHECKPOINT_CHAIN,
  CHECKPOINT_NOTE,
  CHECKPOINT_TST,
  CYCLE_FILES,
  cycleFile,
  INDEX,
  MANIFEST,
  objectPath,
  parseManifest,
  recordObjects,
  SEALING_CHAIN,
  TSA_CHAIN,
  VERIFY_MD,
} from "./layout.js";
import { type LiveLog, verifyLogConsistency } from "./log-consistency.js";
import { verifyCheckpointClaim, verifySealingClaim } from "./verify-chains.js";
import { verifyCycle } from "./verify-cycle.js";
import { eventPaths } from "./verify-events.js";
import { readZipMembers } from "./zip-read.js";

/*
 * `sealgate verify BUNDLE.zip --ca ROOT.pem`: every claim a bundle makes, each ✓ or ✗ with its
 * findings. Only the CA the auditor passes is trusted; everything in the zip is input to check.
 * The steps: the bundle's own files (manifest, index, contents), its checkpoint and sealing
 * chain, then each cycle through the Verifier, then the history, the instructions and the live log.
 */

export interface BundleReport {
  ok: boolean;
  event?: string;
  claims: Claim[];
}

type Files = ReadonlyMap<string, Uint8Array>;

/** `manifest`: every member is listed with its SHA-256, and intact. */
function verifyManifest(files: Files): Claim {
  const title = `every file is listed in ${MANIFEST} with its SHA-256, and intact`;
  const at = (member: string, message: string) =>
    finding("MANIFEST_MISMATCH", "container", message, { member });
  let text: string;
  try {
    text = need(files, MANIFEST).toString("utf8");
  } catch (err) {
    return claim("manifest", title, [
      readFinding(files, MANIFEST, err, "MANIFEST_MISMATCH", { member: MANIFEST }),
    ]);
  }
  const { entries, problems } = parseManifest(text);
  const findings = problems.map((p) => at(MANIFEST, p));
  for (const [path, hash] of entries) {
    const actual = sha256Of(files, path);
    if (!actual) findings.push(at(path, `${path} is listed but missing`));
    else if (actual !== hash)
      findings.push(at(path, `${path} has changed (its SHA-256 is not the listed one)`));
  }
  for (const path of memberNames(files))
    if (path !== MANIFEST && !entries.has(path)) findings.push(at(path, `${path} is not listed`));
  return claim("manifest", title, findings);
}

/** `index`: bundle.json is canonical and names the record and its cycles; without it nothing can be found. */
function readIndex(files: Files): { claim: Claim; index?: BundleIndex } {
  const title = `${INDEX} names the record and its cycles`;
  const where = { member: INDEX };
  let index: BundleIndex;
  try {
    index = parseJsonFile(files, INDEX, BundleIndex);
  } catch (err) {
    return { claim: claim("index", title, [readFinding(files, INDEX, err, "BUNDLE_INVALID", where)]) };
  }
  if (!Buffer.from(canonicalBytes(index)).equals(need(files, INDEX)))
    return {
      claim: claim("index", title, [
        finding(
          "NOT_CANONICAL",
          "container",
          `${INDEX} is not in the canonical form (RFC 8785) export writes: its bytes were changed`,
          where,
        ),
      ]),
    };
  return { claim: claim("index", title, []), index };
}

/** Every file a bundle with this index must hold (objects: those its readable records name). */
function expectedFiles(files: Files, index: BundleIndex): Set<string> {
  const paths = new Set([MANIFEST, INDEX, VERIFY_MD, SEALING_CHAIN, CHECKPOINT_NOTE, CHECKPOINT_CHAIN]);
  // The checkpoint's time-stamp is optional (no TSA configured), but its token and the TSA's
  // certificates come together.
  if (files.has(CHECKPOINT_TST) || files.has(TSA_CHAIN)) paths.add(CHECKPOINT_TST).add(TSA_CHAIN);
  for (const c of index.cycles) {
    for (const f of CYCLE_FILES) paths.add(cycleFile(c.number, f));
    for (const p of eventPaths(files, c)) paths.add(p);
    try {
      const r = parseJsonFile(files, cycleFile(c.number, "record.json"), PromotionRecord);
      for (const o of recordObjects(r, c)) paths.add(objectPath(o.digest));
    } catch {
      // An unreadable record is its own claim; its objects cannot be expected.
    }
  }
  return paths;
}

/** `contents`: exactly the files the records call for, whatever the manifest says. */
function verifyContents(files: Files, index: BundleIndex): Claim {
  const expected = expectedFiles(files, index);
  const present = new Set(memberNames(files));
  const findings: Finding[] = [];
  for (const p of expected)
    if (!present.has(p))
      findings.push(finding("OBJECT_MISSING", "container", `${p} is missing`, { member: p }));
  for (const p of present)
    if (!expected.has(p))
      findings.push(
        finding("CONTENTS_MISMATCH", "container", `${p} does not belong in this bundle`, { member: p }),
      );
  return claim("contents", "the bundle holds exactly the files its records call for", findings);
}

/** `history`: one unbroken chain of cycles of one model, the newest the exported event. */
function verifyHistory(files: Files, index: BundleIndex): Claim {
  const findings: Finding[] = [];
  const cycles = index.cycles;
  const broken = (message: string, cycle?: number) =>
    findings.push(finding("HISTORY_BROKEN", "container", message, cycle === undefined ? {} : { cycle }));
  if (cycles[0]!.record !== index.event)
    broken(`the newest cycle is ${cycles[0]!.record}, not the exported ${index.event}`, cycles[0]!.number);
  let model: string | undefined;
  cycles.forEach((c, i) => {
    const path = cycleFile(c.number, "record.json");
    let r: PromotionRecord;
    try {
      r = parseJsonFile(files, path, PromotionRecord);
    } catch (err) {
      return findings.push(
        readFinding(files, path, err, "RECORD_INVALID", { member: path, cycle: c.number }),
      );
    }
    const next = cycles[i + 1];
    model ??= r.model.name;
    if (r.model.name !== model) broken(`cycle ${c.number} is about ${r.model.name}, not ${model}`, c.number);
    if ((r.cycle.previous ?? null) !== (next?.record ?? null))
      broken(
        `cycle ${c.number} names ${r.cycle.previous ?? "no earlier cycle"}, the bundle has ${next?.record ?? "none"}`,
        c.number,
      );
    if (next && next.number >= c.number)
      broken(`cycle ${next.number} comes after cycle ${c.number}`, next.number);
  });
  return claim("history", "the cycles form one unbroken history, each naming the one before", findings);
}

/**
 * `instructions`: VERIFY.md is UTF-8 text. It is guidance, not evidence: its wording and
 * commands are not compared with anything (FORMAT.md 17.4 says why), so an independent verifier
 * needs no copy of sealgate's template to agree with this claim.
 */
function verifyInstructions(files: Files): Claim {
  const title = `${VERIFY_MD} is readable text`;
  const where = { member: VERIFY_MD };
  let problem: Finding | undefined;
  try {
    const bytes = need(files, VERIFY_MD);
    if (!Buffer.from(bytes.toString("utf8"), "utf8").equals(bytes) || bytes.includes(0))
      problem = finding("INSTRUCTIONS_DIFFER", "container", `${VERIFY_MD} is not UTF-8 text`, where);
  } catch (err) {
    problem = readFinding(files, VERIFY_MD, err, "INSTRUCTIONS_DIFFER", where);
  }
  return claim("instructions", title, problem ? [problem] : []);
}

export async function verifyBundle(
  zip: Buffer | string,
  trust: Trust,
  opts: { log?: LiveLog } = {},
): Promise<BundleReport> {
  const files = new BundleFiles(await readZipMembers(zip, { policyOf: memberRule }));
  const verifier = new Verifier(trust);
  const { claim: indexClaim, index } = readIndex(files);
  const claims = [verifyManifest(files), indexClaim];
  if (!index) return { ok: false, claims };
  claims.push(verifyContents(files, index));

  const checkpoint = await verifyCheckpointClaim(files, verifier);
  const sealing = await verifySealingClaim(files, trust, index, checkpoint.signer);
  claims.push(checkpoint.claim, sealing.claim);
  const cycleContext = {
    files,
    verifier,
    ...(sealing.sealer ? { sealer: sealing.sealer } : {}),
    checkpoint: checkpoint.verified ? { verified: checkpoint.verified } : { signed: checkpoint.signed },
  };
  for (const c of index.cycles) claims.push(...(await verifyCycle(cycleContext, c)));
  claims.push(verifyHistory(files, index), verifyInstructions(files));

  if (opts.log) {
    const log = opts.log;
    const title = `the live ledger at ${"url" in log ? log.url : log.where} still contains this checkpoint's tree`;
    const findings = checkpoint.verified
      ? await verifyLogConsistency(log, checkpoint.verified, verifier)
      : [
          finding(
            "CHECKPOINT_INVALID",
            "inclusion",
            "the bundle's checkpoint did not verify, so there is nothing to compare",
            {
              member: CHECKPOINT_NOTE,
            },
          ),
        ];
    claims.push(claim("log", title, findings));
  }
  return { ok: claims.every((c) => c.ok), event: index.event, claims };
}
