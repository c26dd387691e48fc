import { createHash } from "node:crypto";
import { createWriteStream, existsSync } from "node:fs";
import { once } from "node:events";
import { mkdir, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { sampleRecord } from "../../src/dev/sample-record.js";
import { entryLine, GENESIS, sha256hex } from "../../src/evidence/ledger/ledger.js";
import { SealEntry } from "../../src/evidence/store/seal-index.js";
import { recordBytes } from "../../src/record/schema.js";
import { SEAL_TYPE, sealBytes } from "../../src/record/seal.js";
import type { Digest } from "../../src/core/digest.js";

/*
 * The stand-in part of the gate benchmark's store, written once and kept: N sealed records of
 * another model, each with its objects (record, seal object, stand-in JWS, CMS and PDF, package,
 * manifest, request, explanation, model card, approval), a seal index line and a v2 ledger
 * entry. The ledger and index lines are kept aside (fillers/) so every run starts a fresh
 * ledger and index from them and seals its own real record after them.
 */

async function putRaw(root: string, bytes: Uint8Array): Promise<Digest> {
  const hex = createHash("sha256").update(bytes).digest("hex");
  await writeFile(join(root, "objects", "sha256", hex.slice(0, 2), hex.slice(2)), bytes, { mode: 0o444 });
  return `sha256:${hex}`;
}

export interface FillerStore {
  /** The store root (objects/ holds the fillers' objects). */
  root: string;
  /** The fillers' ledger entries and seal index lines, to copy into ledger/ and index/. */
  entries: string;
  index: string;
}

export async function writeFillerStore(root: string, records: number): Promise<FillerStore> {
  const out = {
    root,
    entries: join(root, "fillers", "entries.log"),
    index: join(root, "fillers", "sealed.jsonl"),
  };
  if (existsSync(`${root}.complete`)) return out;
  process.stderr.write(`  writing ${records} stand-in sealed records into ${root} (once)\n`);
  await rm(root, { recursive: true, force: true });
  for (let i = 0; i < 256; i++)
    await mkdir(join(root, "objects", "sha256", i.toString(16).padStart(2, "0")), { recursive: true });
  await mkdir(join(root, "fillers"), { recursive: true });
  const ledger = createWriteStream(out.entries);
  const index = createWriteStream(out.index);
  const write = async (s: NodeJS.WritableStream, b: Buffer) => {
    if (!s.write(b)) await once(s, "drain");
  };
  const policy = await putRaw(root, Buffer.from("policy: gate bench fillers\n"));
  let prev = GENESIS;
  const t0 = Date.parse("2026-11-01T00:00:00.000Z");
  for (let i = 0; i < records; i++) {
    const r = sampleRecord();
    r.model.version = String(i + 1);
    r.cycle = { number: 1, previous: null, changes: [] };
    r.model.manifest = await putRaw(root, Buffer.from(`{"files":[{"name":"model.pkl","seed":${i}}]}`));
    r.request.object = await putRaw(root, Buffer.from(`request text for record ${i}`));
    r.explanation = { ...r.explanation, object: await putRaw(root, Buffer.from(`png ${i}`)) };
    r.modelCard!.object = await putRaw(root, Buffer.from(`intendedUse: bench ${i}\n`));
    r.approvals[0]!.assertion = await putRaw(root, Buffer.from(`approval jws ${i}`));
    r.package = await putRaw(root, Buffer.from(`{"package":${i},"type":"sealgate.review-package/1"}`));
    r.policy.digest = policy;
    const record = await putRaw(root, recordBytes(r));
    const jws = await putRaw(root, Buffer.from(`{"record jws":${i}}`));
    const cms = await putRaw(root, Buffer.from(`cms ${i}`));
    const pdf = await putRaw(root, Buffer.from(`%PDF-1.7 ${i}`));
    const seal = await putRaw(
      root,
      sealBytes({ type: SEAL_TYPE, record, jws, cms, pdf, package: r.package as Digest, policy }),
    );
    const entry = SealEntry.parse({
      package: r.package,
      record,
      jws,
      p7s: cms,
      pdf,
      model: r.model.name,
      version: r.model.version,
      decision: "approved",
    });
    await write(index, Buffer.from(`${JSON.stringify(entry)}\n`));
    const line = entryLine({
      seq: i,
      prev,
      kind: "record",
      object: record,
      seal,
      time: new Date(t0 + i * 1000).toISOString(),
    });
    await write(ledger, Buffer.concat([line, Buffer.from("\n")]));
    prev = sha256hex(line);
  }
  for (const s of [ledger, index]) {
    s.end();
    await once(s, "close");
  }
  await writeFile(`${root}.complete`, "");
  return out;
}
