import { stat } from "node:fs/promises";
import { join } from "node:path";
import { FileLedger, FileLedgerReader, ledgerDirOf } from "../evidence/ledger/file-ledger.js";
import { ENTRIES, type LedgerReader } from "../evidence/ledger/ledger.js";
import type { Digest } from "../core/digest.js";
import type { EvidenceStore } from "../evidence/store/evidence-store.js";
import { FsObjectStore } from "../evidence/store/fs-store.js";
import { SealIndex } from "../evidence/store/seal-index.js";
import type { StoreParts } from "../evidence/verify/store.js";

/*
 * The store composition: the one place that picks the backends behind EvidenceStore and
 * Ledger for a configured store. Today that is the embedded file store at store.path; a
 * PostgreSQL backend is chosen here from config.store later, and the callers stay as they are.
 */

/** The store's objects, ready to write (its folders created). */
export function openEvidenceStore(storeDir: string): Promise<EvidenceStore> {
  return new FsObjectStore(storeDir).init();
}

/** The writer's ledger: takes the lease (here the ledger's lock), waiting up to `waitMs`. */
export function openLedger(storeDir: string, opts: { waitMs?: number } = {}): Promise<FileLedger> {
  return FileLedger.open(ledgerDirOf(storeDir), opts);
}

/** Where the embedded store keeps an object on disk, for messages that point a person at it. */
export const objectFile = (storeDir: string, digest: Digest) => new FsObjectStore(storeDir).pathOf(digest);

/** Objects and ledger for a reader beside the writer (`outbox`, `status`): nothing created, no lease. */
export function readStore(storeDir: string): { store: EvidenceStore; ledger: LedgerReader } {
  return { store: new FsObjectStore(storeDir), ledger: FileLedgerReader.ofStore(storeDir) };
}

/**
 * The ledger at `dir`, a store (holding ledger/) or a ledger directory itself, for a reader
 * such as `verify BUNDLE --log DIR`; undefined when neither holds an entries file.
 */
export async function ledgerReaderAt(dir: string): Promise<LedgerReader | undefined> {
  const holds = async (d: string) => !!(await stat(join(d, ENTRIES)).catch(() => null));
  if (await holds(ledgerDirOf(dir))) return FileLedgerReader.ofStore(dir);
  return (await holds(dir)) ? new FileLedgerReader(dir) : undefined;
}

/** What `verify --store` reads: objects, ledger, and the seal index for records older than seal objects. */
export async function verifyParts(storeDir: string): Promise<StoreParts> {
  return { ...readStore(storeDir), index: await SealIndex.open(storeDir) };
}
