import { createHash } from "node:crypto";
import type { SimulatedRecord } from "../../sdk/simulator.js";
import type { ContentStore } from "./content.js";

/** What the simulated instance holds, in the vendor-neutral terms tests compare against. */
export function simulatedRecords(store: ContentStore, correlationField: string): SimulatedRecord[] {
  return [...store.records.values()].map((r) => {
    const fields: Record<string, unknown> = {};
    const files: SimulatedRecord["files"] = [];
    let correlation: string | null = null;
    for (const f of store.fieldsOf(r.LevelId)) {
      const v = r.values.get(f.Id) ?? null;
      if (f.Type === 11) {
        for (const id of (v as number[] | null) ?? []) {
          const att = store.attachments.get(id);
          if (att) files.push({ name: att.name, size: att.bytes.length, sha256: sha256(att.bytes) });
        }
        continue;
      }
      if (f.Name === correlationField && typeof v === "string") correlation = v;
      fields[f.Name] = f.Type === 4 && v ? valueNames(store, f.RelatedValuesListId, v) : v;
    }
    return { id: String(r.Id), correlation, fields, files };
  });
}

/** Stored attachments no record links (left by a crash between upload and link). */
export function orphanAttachments(store: ContentStore): number {
  const linked = new Set<number>();
  for (const r of store.records.values()) {
    for (const f of store.fieldsOf(r.LevelId)) {
      if (f.Type === 11) for (const id of (r.values.get(f.Id) as number[] | null) ?? []) linked.add(id);
    }
  }
  return [...store.attachments.keys()].filter((id) => !linked.has(id)).length;
}

function valueNames(store: ContentStore, listId: number | null, v: unknown): string[] {
  const list = store.meta.valuesLists.get(listId ?? -1) ?? [];
  const ids = (v as { ValuesListIds?: number[] }).ValuesListIds ?? [];
  return ids.map((id) => list.find((x) => x.Id === id)?.Name ?? String(id));
}

const sha256 = (b: Buffer) => createHash("sha256").update(b).digest("hex");
