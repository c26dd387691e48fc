/** One thing that did not verify, and exactly where. The verifier reports all of them. */
export interface Finding {
  /** Stable code, e.g. ENTRY_CHAIN_BROKEN, OBJECT_CORRUPT, CERT_EXPIRED. */
  code: string;
  message: string;
  /** Ledger entry index (= seq) the finding is pinned to. */
  entry?: number;
  /** Object digest concerned. */
  object?: string;
  /** Index of the checkpoint (line in checkpoints.log) concerned. */
  checkpoint?: number;
}

export function describeFinding(f: Finding): string {
  const where = [
    f.entry !== undefined ? `entry ${f.entry}` : "",
    f.checkpoint !== undefined ? `checkpoint ${f.checkpoint}` : "",
    f.object ? `object ${f.object}` : "",
  ]
    .filter(Boolean)
    .join(", ");
  return `${f.code}${where ? ` (${where})` : ""}: ${f.message}`;
}
