import { mkdir, open, readFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { z } from "zod";
import { Digest } from "../record/schema.js";

/*
 * Which record sealed which review package, and where its signatures are. Written (fsynced)
 * before the ledger append, so a crash between append and tag write is finished on the next
 * pass with the same record instead of sealing the package twice. Append-only JSON lines.
 */

export const SealEntry = z.strictObject({
  package: Digest,
  record: Digest,
  jws: Digest,
  p7s: Digest,
  pdf: Digest,
  model: z.string(),
  version: z.string(),
  decision: z.enum(["approved", "rejected"]),
});
export type SealEntry = z.infer<typeof SealEntry>;

export class SealIndex {
  private constructor(
    private readonly path: string,
    private readonly byPackage: Map<string, SealEntry>,
  ) {}

  static async open(storeRoot: string): Promise<SealIndex> {
    const path = join(storeRoot, "index", "sealed.jsonl");
    const map = new Map<string, SealEntry>();
    const text = await readFile(path, "utf8").catch(() => "");
    for (const line of text.split("\n")) {
      // A torn last line (crash mid-write) is simply not an entry: that seal is redone.
      const parsed = line ? SealEntry.safeParse(safeJson(line)) : undefined;
      if (parsed?.success) map.set(parsed.data.package, parsed.data);
    }
    return new SealIndex(path, map);
  }

  get(pkg: string): SealEntry | undefined {
    return this.byPackage.get(pkg);
  }

  /** Every sealed record's digest. */
  records(): string[] {
    return [...this.byPackage.values()].map((e) => e.record);
  }

  byRecord(record: string): SealEntry | undefined {
    for (const e of this.byPackage.values()) if (e.record === record) return e;
    return undefined;
  }

  async add(entry: SealEntry): Promise<void> {
    await mkdir(dirname(this.path), { recursive: true });
    const fh = await open(this.path, "a", 0o644);
    try {
      await fh.write(`${JSON.stringify(SealEntry.parse(entry))}\n`);
      await fh.datasync();
    } finally {
      await fh.close();
    }
    this.byPackage.set(entry.package, entry);
  }
}

function safeJson(s: string): unknown {
  try {
    return JSON.parse(s);
  } catch {
    return undefined;
  }
}
