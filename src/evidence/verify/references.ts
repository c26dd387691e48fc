import { type Finding, finding, findingOf } from "./findings.js";
import type { Rehashed } from "./rehash.js";

/*
 * Which entry reaches which object (the first entry to reach it, and through which member), so
 * that after the store is re-hashed each corrupt or missing object names the entry that needs
 * it, and each object no entry reaches is a warning.
 */

interface Referrer {
  entry: number;
  member: string;
}

export class References {
  private readonly by = new Map<string, Referrer>();
  /** Objects the walk itself already reported (read while following an entry). */
  private readonly reported = new Set<string>();
  /** What the derived indexes say about an object no entry reaches (index/review-pdfs.jsonl). */
  readonly notes = new Map<string, string>();

  /** The earliest entry wins, whatever order entries are followed in. */
  add(digest: string, entry: number, member: string): void {
    const had = this.by.get(digest);
    if (!had || had.entry > entry) this.by.set(digest, { entry, member });
  }

  has(digest: string): boolean {
    return this.by.has(digest);
  }

  markReported(digest: string): void {
    this.reported.add(digest);
  }

  /** Join the walk with the store's re-hash: corrupt, unreadable, missing (errors) and unreferenced (warnings). */
  settle(r: Rehashed, findings: Finding[], warnings: Finding[]): { objects: number; bytes: number } {
    const where = (digest: string) => {
      const ref = this.by.get(digest);
      return ref ? { entry: ref.entry, object: digest, member: ref.member } : { object: digest };
    };
    for (const { digest, actual } of r.corrupt)
      if (!this.reported.has(digest))
        findings.push(
          finding(
            "OBJECT_CORRUPT",
            "container",
            `object ${digest} is corrupt: its bytes hash to ${actual}`,
            where(digest),
          ),
        );
    for (const { digest, error } of r.unreadable)
      if (!this.reported.has(digest))
        findings.push(findingOf(error, "container", where(digest), "OBJECT_UNREADABLE"));
    for (const [digest, ref] of this.by)
      if (!r.listed.has(digest) && !this.reported.has(digest))
        findings.push(
          finding(
            "OBJECT_MISSING",
            "container",
            `object ${digest} is not in the store; entry ${ref.entry} references it (${ref.member})`,
            { entry: ref.entry, object: digest, member: ref.member },
          ),
        );
    for (const digest of r.listed)
      if (!this.by.has(digest)) {
        const note = this.notes.get(digest);
        warnings.push(
          finding(
            "OBJECT_UNREFERENCED",
            "container",
            `no ledger entry references object ${digest}${note ? `: ${note}` : ""}`,
            { object: digest },
          ),
        );
      }
    return { objects: r.objects, bytes: r.bytes };
  }
}
