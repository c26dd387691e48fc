import { stat } from "node:fs/promises";
import { join } from "node:path";
import { type Checkpoint, verifyCheckpoint } from "../ledger/checkpoint.js";
import { ENTRIES } from "../ledger/ledger.js";
import { consistencyProof, verifyConsistency } from "../ledger/merkle.js";
import type { Trust } from "../pki/trust.js";
import { holdsCheckpoint, readLedgerView } from "../ledger/view.js";

/*
 * `verify BUNDLE --log DIR|URL`: the live log's latest checkpoint must be signed by the CA, hold its
 * own entries, and extend the bundle's checkpoint (RFC 9162 consistency proof cut from the live
 * entries). A log rewritten after the bundle was exported cannot pass: the old tree is gone.
 */

/** A ledger directory (or a store holding one), or a daemon's base URL serving /ledger/. */
export type LiveLog = { dir: string } | { url: string; ca?: string };

export async function verifyLogConsistency(
  log: LiveLog,
  old: Checkpoint,
  trust: Trust,
  fail: (reason: string) => void,
): Promise<void> {
  const view =
    "url" in log ? await readLedgerView(log.url, log) : await readLedgerView(await ledgerDir(log.dir));
  if (!view.latest) return fail("the live ledger has no signed checkpoint");
  const live = await verifyCheckpoint(view.latest.signed, trust);
  if (live.origin !== old.origin)
    return fail(`the live ledger is ${live.origin}, the bundle's is ${old.origin}`);
  if (live.size < old.size)
    return fail(`the live checkpoint (${live.size} entries) is older than the bundle's (${old.size})`);
  if (!holdsCheckpoint(view, live))
    return fail(`the live ledger's entries do not hash to its own latest checkpoint (size ${live.size})`);
  const proof = consistencyProof(view.leaves, old.size, 0, live.size);
  if (!verifyConsistency(old.size, live.size, proof, old.root, live.root))
    fail(
      `the live ledger (${live.size} entries) does not extend the bundle's checkpoint of ${old.size}: the log was rewritten`,
    );
}

/** A store root (holding ledger/) or the ledger directory itself. */
async function ledgerDir(dir: string): Promise<string> {
  return (await stat(join(dir, "ledger", ENTRIES)).catch(() => null)) ? join(dir, "ledger") : dir;
}
