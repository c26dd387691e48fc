import { createHash } from "node:crypto";
import { z } from "zod";
import { SealgateError } from "../core/errors.js";
import { parseCheckpoint } from "../evidence/ledger/checkpoint.js";
import { parsePemCertificates } from "../crypto/pki/x509.js";
import { canonicalBytes } from "../record/canonical.js";
import { PromotionRecord } from "../record/schema.js";
import { parseEntry, sha256hex } from "../evidence/ledger/ledger.js";
import { checkJsonDepth, memberRule } from "./limits.js";
import type { ZipMember } from "./zip-read.js";
import {
  BundleIndex,
  CHECKPOINT_CHAIN,
  CHECKPOINT_NOTE,
  CHECKPOINT_TST,
  cycleFile,
  eventFile,
  InclusionFile,
  INDEX,
  objectPath,
  recordObjects,
  TSA_CHAIN,
} from "./layout.js";
import { tokenContents } from "./tsa-token.js";
import {
  type ApprovalFacts,
  approvalFacts,
  type CmsTokenFacts,
  cmsTokenFacts,
  type EventFacts,
  eventFacts,
} from "./verify-md-facts.js";

/*
 * What VERIFY.md needs to know about a bundle, read from the bundle's own files at export, and
 * the parsing helpers verify shares: every member is untrusted input, parsed once, strictly.
 */

export interface CycleFacts {
  number: number;
  record: string;
  model: string;
  version: string;
  decision: string;
  sealedAt: string;
  previous: string | null;
  proof: InclusionFile;
  objects: { digest: string; role: string }[];
  /** Which ledger entry form entry.json has (ledger.ts): v1 names the record as "record", v2 as "object". */
  entryForm: "v1" | "v2";
  approvals: ApprovalFacts[];
  /** The review chain (materiality.chain) the approvals follow. */
  chain: string[];
  /** A ledger-judged cycle's events, ledger order, each with its inclusion proof. */
  events?: (EventFacts & { proof: InclusionFile })[];
  /** Where record.p7s keeps its signature time-stamp (CAdES-T), when it has one. */
  cmsToken?: CmsTokenFacts;
}

export interface BundleFacts {
  event: string;
  cycles: CycleFacts[];
  checkpoint: {
    origin: string;
    size: number;
    time: string;
    signature: string[];
    keyType: string;
    /** Which key-id rule (FORMAT.md section 10) VERIFY.md recomputes by hand. */
    scheme: "ecdsa" | "rsa-pss" | "rsa-pkcs1";
    /** The genTime of ledger/checkpoint.tst, when the bundle has one. */
    tokenTime?: string;
  };
  /** Whether certs/tsa-chain.pem holds a certificate (VERIFY.md then passes it as -untrusted). */
  tsaChain: boolean;
}

const invalid = (what: string, cause?: unknown) =>
  new SealgateError("BUNDLE_INVALID", `bundle: ${what}`, cause ? { cause } : undefined);

/**
 * A bundle's members as verify reads them: the bytes of those held in memory, and for every
 * member (held or only hashed) its SHA-256, size and last 4 KiB.
 */
export class BundleFiles extends Map<string, Buffer> {
  constructor(readonly members: ReadonlyMap<string, ZipMember>) {
    super([...members].flatMap(([name, m]) => (m.bytes ? [[name, m.bytes] as const] : [])));
  }
}

type Files = ReadonlyMap<string, Uint8Array>;
const membersOf = (files: Files) => (files instanceof BundleFiles ? files.members : undefined);

/** Every member's name, including those too large to hold. */
export const memberNames = (files: Files): string[] => [...(membersOf(files) ?? files).keys()];

/** A member's SHA-256 (hex), computed once while it inflated; undefined when absent. */
export function sha256Of(files: Files, path: string): string | undefined {
  const m = membersOf(files)?.get(path);
  if (m) return m.sha256;
  const b = files.get(path);
  return b && sha256hex(b);
}

/** A member's last 4 KiB (a PDF's trailer), also for members only hashed. */
export function tailOf(files: Files, path: string): Buffer {
  const m = membersOf(files)?.get(path);
  return m ? m.tail : need(files, path).subarray(-4096);
}

export function need(files: Files, path: string): Buffer {
  const b = files.get(path);
  if (b) return Buffer.from(b);
  const m = membersOf(files)?.get(path);
  if (m)
    throw invalid(
      `${path} is ${m.size} bytes; verify reads members of this kind up to ${memberRule(path).holdBytes} bytes and only hashes larger ones`,
    );
  throw invalid(`${path} is missing`);
}

/** Each zod issue as `path: message` (the message names the expected type). */
function describeIssues(err: z.ZodError): string {
  const shown = err.issues
    .slice(0, 3)
    .map((i) => `${i.path.length ? i.path.join(".") : "(top level)"}: ${i.message}`);
  const more = err.issues.length > 3 ? `; and ${err.issues.length - 3} more` : "";
  return `${shown.join("; ")}${more}`;
}

type Parsed = {
  value?: unknown;
  error?: unknown;
  bySchema: Map<unknown, { ok: unknown } | { error: unknown }>;
};
/** Each member is parsed once, however many claims read it (a record is read by most). */
const parsedJson = new WeakMap<Uint8Array, Map<string, Parsed>>();

/** Keyed by the member's own bytes object, so a map changed in place is never served stale. */
function parseOnce(files: Files, path: string, bytes: Buffer): Parsed {
  const held = files.get(path)!;
  let byPath = parsedJson.get(held);
  if (!byPath) parsedJson.set(held, (byPath = new Map()));
  let entry = byPath.get(path);
  if (!entry) {
    entry = { bySchema: new Map() };
    try {
      checkJsonDepth(bytes, path);
      entry.value = JSON.parse(bytes.toString("utf8"));
    } catch (cause) {
      entry.error =
        cause instanceof SealgateError
          ? cause
          : invalid(`${path} is not valid JSON (${(cause as Error).message})`, cause);
    }
    byPath.set(path, entry);
  }
  return entry;
}

/**
 * A JSON file of the bundle, parsed and checked against its schema. With `canonical`, the file
 * must also be exactly its RFC 8785 form, as export writes it: then no byte of it can change
 * (a space for a tab, say) without the verifier noticing, though the values stay the same.
 */
export function parseJsonFile<T>(
  files: Files,
  path: string,
  schema: { parse: (v: unknown) => T },
  opts: { canonical?: boolean } = {},
): T {
  const bytes = need(files, path);
  const entry = parseOnce(files, path, bytes);
  if (entry.error) throw entry.error;
  let result = entry.bySchema.get(schema);
  if (!result) {
    try {
      result = { ok: schema.parse(entry.value) };
    } catch (cause) {
      const why = cause instanceof z.ZodError ? describeIssues(cause) : (cause as Error).message;
      result = {
        error: invalid(`${path} is not a valid ${memberRule(path).kind.replace(/ \(.*/, "")}: ${why}`),
      };
    }
    entry.bySchema.set(schema, result);
  }
  if ("error" in result) throw result.error;
  if (opts.canonical && !bytes.equals(canonicalBytes(entry.value, path)))
    throw invalid(`${path} is not in the canonical form (RFC 8785) export writes: its bytes were changed`);
  return result.ok as T;
}

/** openssl dgst options that verify the checkpoint signature, from the signer key and key id. */
function checkpointScheme(files: ReadonlyMap<string, Uint8Array>, origin: string, keyId: Buffer) {
  const [leaf] = parsePemCertificates(need(files, CHECKPOINT_CHAIN).toString("utf8"), CHECKPOINT_CHAIN);
  if (!leaf) throw invalid(`${CHECKPOINT_CHAIN} holds no certificate`);
  const alg = leaf.publicKey.algorithm as { name: string; namedCurve?: string };
  if (alg.name === "ECDSA")
    return {
      keyType: `ECDSA ${alg.namedCurve}`,
      signature: [alg.namedCurve === "P-384" ? "-sha384" : "-sha256"],
      scheme: "ecdsa" as const,
    };
  const spki = Buffer.from(leaf.publicKey.rawData);
  const rsaId = (scheme: string) =>
    createHash("sha256")
      .update(origin)
      .update(Buffer.from([0x0a, 0xff]))
      .update(`sealgate-${scheme}-sha256`)
      .update(spki)
      .digest()
      .subarray(0, 4);
  if (rsaId("rsa-pss").equals(keyId))
    return {
      keyType: "RSA-PSS",
      signature: ["-sha256", "-sigopt", "rsa_padding_mode:pss", "-sigopt", "rsa_pss_saltlen:32"],
      scheme: "rsa-pss" as const,
    };
  return { keyType: "RSA PKCS#1 v1.5", signature: ["-sha256"], scheme: "rsa-pkcs1" as const };
}

/** A v2 entry line starts with its kind; anything else (v1, or no entry) is read as v1. */
const entryFormOf = (entry: Uint8Array | undefined): "v1" | "v2" =>
  entry && Buffer.from(entry).subarray(0, 8).toString("latin1") === '{"kind":' ? "v2" : "v1";

export function bundleFacts(files: ReadonlyMap<string, Uint8Array>): BundleFacts {
  const index = parseJsonFile(files, INDEX, BundleIndex, { canonical: true });
  const cycles = index.cycles.map((c): CycleFacts => {
    const r = parseJsonFile(files, cycleFile(c.number, "record.json"), PromotionRecord);
    return {
      number: c.number,
      record: c.record,
      model: r.model.name,
      version: r.model.version,
      decision: r.decision,
      sealedAt: r.sealedAt,
      previous: r.cycle.previous,
      proof: parseJsonFile(files, cycleFile(c.number, "inclusion.json"), InclusionFile, { canonical: true }),
      objects: recordObjects(r, c),
      entryForm: entryFormOf(files.get(cycleFile(c.number, "entry.json"))),
      chain: r.materiality.chain,
      approvals: r.approvals.map((a, i) =>
        approvalFacts(r, i, need(files, objectPath(a.assertion)), c.reviewPdf),
      ),
      ...withCmsToken(need(files, cycleFile(c.number, "record.p7s"))),
      ...(c.events ? { events: c.events.map((e) => cycleEvent(files, c.number, e)) } : {}),
    };
  });
  const tst = files.get(CHECKPOINT_TST);
  let parsed: ReturnType<typeof parseCheckpoint>;
  try {
    parsed = parseCheckpoint(need(files, CHECKPOINT_NOTE).toString("utf8"));
  } catch (cause) {
    throw invalid(`${CHECKPOINT_NOTE} is not a signed checkpoint`, cause);
  }
  const { checkpoint, signatures } = parsed;
  return {
    event: index.event,
    cycles,
    checkpoint: {
      origin: checkpoint.origin,
      size: checkpoint.size,
      time: checkpoint.time.toISOString(),
      ...checkpointScheme(files, checkpoint.origin, signatures[0]!.sig.subarray(0, 4)),
      ...(tst ? { tokenTime: tokenContents(tst).genTime.toISOString() } : {}),
    },
    tsaChain: (files.get(TSA_CHAIN)?.length ?? 0) > 0,
  };
}

function cycleEvent(
  files: ReadonlyMap<string, Uint8Array>,
  n: number,
  e: { object: string; seq: number },
): EventFacts & { proof: InclusionFile } {
  const entry = parseEntry(need(files, eventFile(n, e.seq, "entry.json")));
  if (!entry?.time) throw invalid(`${eventFile(n, e.seq, "entry.json")} is not a ledger entry`);
  return {
    ...eventFacts({ ...e, time: entry.time }, need(files, objectPath(e.object))),
    proof: parseJsonFile(files, eventFile(n, e.seq, "inclusion.json"), InclusionFile, { canonical: true }),
  };
}

function withCmsToken(p7s: Uint8Array): { cmsToken?: CmsTokenFacts } {
  const t = cmsTokenFacts(p7s);
  return t ? { cmsToken: t } : {};
}
