import { createHash } from "node:crypto";
import { SealgateError } from "../errors.js";
import { parseCheckpoint } from "../ledger/checkpoint.js";
import { parsePemCertificates } from "../pki/x509.js";
import { canonicalBytes } from "../record/canonical.js";
import { PromotionRecord } from "../record/schema.js";
import {
  BundleIndex,
  CHECKPOINT_CHAIN,
  CHECKPOINT_NOTE,
  cycleFile,
  InclusionFile,
  INDEX,
  recordObjects,
} from "./layout.js";

/*
 * What VERIFY.md needs to know about a bundle, read from the bundle's own files. Export builds
 * VERIFY.md from these facts; verify rebuilds it the same way and compares, so the instructions
 * an auditor follows are exactly the ones this bundle's contents call for.
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
}

export interface BundleFacts {
  event: string;
  cycles: CycleFacts[];
  checkpoint: { origin: string; size: number; time: string; signature: string[]; keyType: string };
}

const invalid = (what: string, cause?: unknown) =>
  new SealgateError("BUNDLE_INVALID", `bundle: ${what}`, cause ? { cause } : undefined);

export function need(files: ReadonlyMap<string, Uint8Array>, path: string): Buffer {
  const b = files.get(path);
  if (!b) throw invalid(`${path} is missing`);
  return Buffer.from(b);
}

/**
 * A JSON file of the bundle, parsed and checked against its schema. With `canonical`, the file
 * must also be exactly its RFC 8785 form, as export writes it: then no byte of it can change
 * (a space for a tab, say) without the verifier noticing, though the values stay the same.
 */
export function parseJsonFile<T>(
  files: ReadonlyMap<string, Uint8Array>,
  path: string,
  schema: { parse: (v: unknown) => T },
  opts: { canonical?: boolean } = {},
): T {
  const bytes = need(files, path);
  let value: unknown;
  let parsed: T;
  try {
    value = JSON.parse(bytes.toString("utf8"));
    parsed = schema.parse(value);
  } catch (cause) {
    if (cause instanceof SealgateError) throw cause;
    throw invalid(`${path} is not valid (${(cause as Error).message.split("\n")[0]})`, cause);
  }
  if (opts.canonical && !bytes.equals(canonicalBytes(value, path)))
    throw invalid(`${path} is not in the canonical form (RFC 8785) export writes: its bytes were changed`);
  return parsed;
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
    };
  return { keyType: "RSA PKCS#1 v1.5", signature: ["-sha256"] };
}

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
      objects: recordObjects(r, c.reviewPdf),
    };
  });
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
    },
  };
}
