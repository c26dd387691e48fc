import { createHash } from "node:crypto";
import { join } from "node:path";
import { z } from "zod";
import { exportBundle } from "../../bundle/export.js";
import { SealgateError } from "../../core/errors.js";
import type { SealEntry, SealIndex } from "../../evidence/store/seal-index.js";
import type { LedgerReader } from "../../evidence/ledger/ledger.js";
import type { AttachmentName } from "../mapping/schema.js";
import { appendJsonl, readJsonl } from "../../evidence/store/jsonl.js";
import { Digest } from "../../record/schema.js";
import type { Signer } from "../../crypto/sign/signer.js";
import type { EvidenceStore } from "../../evidence/store/evidence-store.js";
import type { EvidenceFile } from "../destination/destination.js";
import { buildEvidence } from "./evidence.js";
import type { DeliveryView } from "../../evidence/ledger/delivery-view.js";

/*
 * The evidence files a mapping can attach. Stored objects (record, JWS, CMS, PDF) are read as
 * they are; built ones (evidence.json, bundle.zip) are built once per record, stored,
 * and remembered in <store>/index/delivery-files.jsonl, so a delivery resumed after a crash uploads
 * the very bytes it started with and every destination gets the same file.
 */

export interface FileContext {
  store: EvidenceStore;
  /** The ledger and seal index, which bundle export reads beside the store. */
  ledger: LedgerReader;
  index: SealIndex;
  view: DeliveryView;
  seq: number;
  seal: SealEntry;
  signer: Signer;
}

/** Bytes of one file, or null when it cannot be made yet (evidence waits for a checkpoint). */
export type FileProvider = (ctx: FileContext) => Promise<{ object: string } | { bytes: Uint8Array } | null>;

export interface FileKind {
  mediaType: string;
  provide: FileProvider;
}

export const BUILTIN_FILES: Partial<Record<AttachmentName, FileKind>> = {
  "evidence.json": { mediaType: "application/json", provide: async (c) => wrap(await buildEvidence(c)) },
  "record.json": { mediaType: "application/json", provide: async (c) => ({ object: c.seal.record }) },
  "record.jws": { mediaType: "application/jose+json", provide: async (c) => ({ object: c.seal.jws }) },
  "record.p7s": { mediaType: "application/pkcs7-signature", provide: async (c) => ({ object: c.seal.p7s }) },
  "record.pdf": { mediaType: "application/pdf", provide: async (c) => ({ object: c.seal.pdf }) },
  "bundle.zip": { mediaType: "application/zip", provide: provideBundle },
};

/** The whole signed bundle (FORMAT.md section 17), once a checkpoint covers the record. */
async function provideBundle(c: FileContext) {
  try {
    return { bytes: new Uint8Array(await exportBundle(c, { event: c.seal.record })) };
  } catch (err) {
    if (err instanceof SealgateError && err.code === "EXPORT_UNAVAILABLE") return null;
    throw err;
  }
}

const wrap = (bytes: Uint8Array | null) => (bytes ? { bytes } : null);

/** Why a file the build has no provider for cannot be attached (for the mapping compiler). */
export function unavailableFiles(kinds: Partial<Record<AttachmentName, FileKind>>) {
  const why: Partial<Record<AttachmentName, string>> = {};
  if (!kinds["bundle.zip"])
    why["bundle.zip"] = "this build has no bundle exporter; remove bundle.zip from attachments";
  return why;
}

const Frozen = z.strictObject({ record: Digest, name: z.string(), object: Digest });

/** Built files, frozen per record on first build. */
export class FrozenFiles {
  private readonly building = new Map<string, Promise<EvidenceFile | null>>();
  private constructor(
    private readonly path: string,
    private readonly known: Map<string, string>,
    private readonly kinds: Partial<Record<AttachmentName, FileKind>>,
  ) {}

  static async open(storeRoot: string, kinds = BUILTIN_FILES): Promise<FrozenFiles> {
    const path = join(storeRoot, "index", "delivery-files.jsonl");
    const known = new Map<string, string>();
    // First entry wins: a later duplicate (two builders racing) is never what was uploaded first.
    for (const f of (await readJsonl(path, Frozen, { skipInvalid: true })).items)
      if (!known.has(`${f.record} ${f.name}`)) known.set(`${f.record} ${f.name}`, f.object);
    return new FrozenFiles(path, known, kinds);
  }

  /** The file for one record, built and frozen on first use. */
  get(name: AttachmentName, ctx: FileContext): Promise<EvidenceFile | null> {
    const key = `${ctx.seal.record} ${name}`;
    let p = this.building.get(key);
    if (!p) {
      p = this.make(name, key, ctx);
      this.building.set(key, p);
      // Only builds in progress are shared; finished files are not kept in memory.
      const done = () => void this.building.delete(key);
      p.then(done, done);
    }
    return p;
  }

  private async make(name: AttachmentName, key: string, ctx: FileContext): Promise<EvidenceFile | null> {
    const kind = this.kinds[name];
    if (!kind) throw new Error(`no provider for ${name}`);
    let object = this.known.get(key);
    if (!object) {
      const made = await kind.provide(ctx);
      if (!made) return null;
      if ("object" in made) object = made.object;
      else {
        object = await ctx.store.put(made.bytes);
        await appendJsonl(this.path, [{ record: ctx.seal.record, name, object }]);
        this.known.set(key, object);
      }
    }
    const bytes = await ctx.store.get(object as never);
    return {
      name,
      mediaType: kind.mediaType,
      bytes,
      sha256: createHash("sha256").update(bytes).digest("hex"),
    };
  }
}
