import type { Checkpoint } from "../evidence/ledger/checkpoint.js";
import type { LedgerReader } from "../evidence/ledger/ledger.js";
import { consistencyProof, verifyConsistency } from "../evidence/ledger/merkle.js";
import { holdsCheckpoint, type LedgerView, ledgerView } from "../evidence/ledger/view.js";
import { type Finding, finding, findingOf } from "../evidence/verify/findings.js";
import type { Verifier } from "../evidence/verify/verifier.js";
import { HttpLedgerReader, type LiveLogUrl } from "./http-ledger-reader.js";

/*
 * `verify BUNDLE --log DIR|URL`: the live log's latest checkpoint must be signed by the CA, hold its
 * own entries, and extend the bundle's checkpoint (RFC 9162 consistency proof cut from the live
 * entries). A log rewritten after the bundle was exported cannot pass: the old tree is gone.
 * A URL is read through HttpLedgerReader, within its limits.
 */

/** A ledger the caller opened (the CLI: a directory), or a daemon's base URL serving /ledger/. */
export type LiveLog = { ledger: LedgerReader; where: string } | LiveLogUrl;

/** The live log against the bundle's checkpoint: nothing when it only grew, else why not. */
export async function verifyLogConsistency(
  log: LiveLog,
  old: Checkpoint,
  verifier: Verifier,
): Promise<Finding[]> {
  const inconsistent = (message: string) => [finding("LOG_INCONSISTENT", "inclusion", message, {})];
  let view: LedgerView;
  try {
    view = await readLive(log, old.size);
  } catch (err) {
    return [findingOf(err, "container", {}, "LOG_INCONSISTENT")];
  }
  if (!view.latest) return inconsistent("the live ledger has no signed checkpoint");
  const { checkpoint: live, findings } = await verifier.verifyCheckpoint(view.latest.signed, {});
  if (!live) return findings;
  if (live.origin !== old.origin)
    return inconsistent(`the live ledger is ${live.origin}, the bundle's is ${old.origin}`);
  if (live.size < old.size)
    return inconsistent(
      `the live checkpoint (${live.size} entries) is older than the bundle's (${old.size})`,
    );
  if (!holdsCheckpoint(view, live))
    return inconsistent(
      `the live ledger's entries do not hash to its own latest checkpoint (size ${live.size})`,
    );
  const proof = consistencyProof(view.leaves, old.size, 0, live.size);
  if (!verifyConsistency(old.size, live.size, proof, old.root, live.root))
    return inconsistent(
      `the live ledger (${live.size} entries) does not extend the bundle's checkpoint of ${old.size}: the log was rewritten`,
    );
  return [];
}

async function readLive(log: LiveLog, bundleSize: number): Promise<LedgerView> {
  if ("ledger" in log) return ledgerView(log.ledger);
  const reader = new HttpLedgerReader(log, bundleSize);
  try {
    return await ledgerView(reader);
  } finally {
    await reader.close();
  }
}
