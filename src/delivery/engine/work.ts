import { SealgateError } from "../../core/errors.js";
import type { SealIndex, SealEntry } from "../../evidence/store/seal-index.js";
import type { CompiledMapping } from "../mapping/compile.js";
import { PromotionRecord } from "../../record/schema.js";
import type { Signer } from "../../crypto/sign/signer.js";
import type { EvidenceStore } from "../../evidence/store/evidence-store.js";
import type { Work } from "./deliver-one.js";
import type { EvidenceFile } from "../destination/destination.js";
import type { FrozenFiles } from "./files.js";
import type { DeliveryView } from "../../evidence/ledger/delivery-view.js";
import type { LedgerReader } from "../../evidence/ledger/ledger.js";

/** Everything one delivery needs from the store; null while a file cannot be made yet. */
export async function loadWork(
  ctx: {
    store: EvidenceStore;
    ledger: LedgerReader;
    view: DeliveryView;
    index: SealIndex;
    frozen: FrozenFiles;
    signer: Signer;
  },
  entry: { seq: number; record: string },
  mapping: CompiledMapping,
): Promise<Work | null> {
  const seal = sealOf(ctx.index, entry.record);
  const parsed = PromotionRecord.safeParse(
    JSON.parse(Buffer.from(await ctx.store.get(entry.record as never)).toString("utf8")),
  );
  if (!parsed.success)
    throw new SealgateError(
      "OBJECT_CORRUPT",
      `record ${entry.record} in the store is not a promotion record`,
    );
  const files: EvidenceFile[] = [];
  for (const name of mapping.attachments) {
    const file = await ctx.frozen.get(name, { ...ctx, seq: entry.seq, seal });
    if (!file) return null;
    files.push(file);
  }
  return { record: parsed.data, digest: entry.record, files };
}

// Lines of v2 entries were restored from seal objects (engine.ts); a v1 entry with no index line
// cannot be (governance/seal-recovery.ts): refuse it.
function sealOf(index: SealIndex, record: string): SealEntry {
  const seal = index.byRecord(record);
  if (!seal)
    throw new SealgateError(
      "OBJECT_MISSING",
      `record ${record} is in the ledger but not in the seal index (index/sealed.jsonl), so its signatures and PDF are unknown; run sealgate verify`,
    );
  return seal;
}
