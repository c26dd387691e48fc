import type { ArcherApi } from "./api.js";
import type { ArcherTarget } from "./config.js";
import {
  Application,
  FieldDefinition,
  Level,
  type ValuesListValue,
  ValuesListValue as ValueSchema,
} from "./responses.js";
import { ArcherError } from "./errors.js";

/*
 * Archer addresses fields by numeric id, admins by name. This resolves the mapping's names
 * (application, level, fields, values-list entries) against the live metadata once, so a
 * renamed field fails at start-up with its name rather than as a rejected record later.
 */

export interface LevelMetadata {
  application: { id: number; name: string };
  level: { id: number; name: string; alias: string };
  fields: Map<string, FieldDefinition>;
}

export async function loadMetadata(api: ArcherApi, target: ArcherTarget): Promise<LevelMetadata> {
  const apps = await api.all("core/system/application", Application, "list applications");
  const app = apps.find((a) => a.Name === target.application);
  if (!app) {
    throw mappingError(
      "target.application",
      `no application named "${target.application}" is visible to this user (${apps.length} seen${suggest(
        target.application,
        apps.map((a) => a.Name),
      )})`,
    );
  }
  const levels = await api.all(`core/system/level/module/${app.Id}`, Level, `levels of "${app.Name}"`);
  const level = pickLevel(levels, target.level, app.Name);
  const defs = await api.all(
    `core/system/fielddefinition/level/${level.Id}`,
    FieldDefinition,
    `fields of level "${level.Name}"`,
  );
  const fields = new Map<string, FieldDefinition>();
  for (const def of defs) {
    if (def.LevelId !== level.Id) continue; // defensive: a field listing that leaks other levels
    if (fields.has(def.Name)) {
      throw mappingError(
        "fields",
        `level "${level.Name}" has two fields named "${def.Name}"; rename one in Archer`,
      );
    }
    fields.set(def.Name, def);
  }
  return {
    application: { id: app.Id, name: app.Name },
    level: { id: level.Id, name: level.Name, alias: level.Alias },
    fields,
  };
}

function pickLevel(levels: Level[], wanted: string | number | undefined, app: string): Level {
  if (wanted === undefined) {
    if (levels.length === 1) return levels[0] as Level;
    throw mappingError(
      "target.level",
      `application "${app}" has ${levels.length} levels (${levels.map((l) => l.Name).join(", ")}); name one`,
    );
  }
  const level = levels.find((l) =>
    typeof wanted === "number" ? l.Id === wanted : l.Name === wanted || l.Alias === wanted,
  );
  if (!level) {
    throw mappingError(
      "target.level",
      `application "${app}" has no level "${wanted}"; its levels are ${levels.map((l) => `${l.Name} (alias ${l.Alias}, id ${l.Id})`).join(", ") || "none"}`,
    );
  }
  return level;
}

/** The values of one values list, fetched once and shared (single flight). */
export class ValuesLists {
  private readonly cache = new Map<number, Promise<ValuesListValue[]>>();
  constructor(private readonly api: ArcherApi) {}

  /** The id of the entry called `name` (exact, else the only case-insensitive match). */
  async idOf(listId: number, name: string, field: string): Promise<number> {
    let values = this.cache.get(listId);
    if (!values) {
      values = this.api.all(
        `core/system/valueslistvalue/valueslist/${listId}`,
        ValueSchema,
        `values of "${field}"`,
      );
      this.cache.set(listId, values);
      values.catch(() => this.cache.delete(listId));
    }
    const all = await values;
    const exact = all.filter((v) => v.Name === name);
    // Loosely: ignoring case, and "_" as a space, so the record's changes_requested finds an
    // entry named "Changes Requested".
    const key = (n: string) =>
      n
        .toLowerCase()
        .replace(/[_\s]+/g, " ")
        .trim();
    const loose = exact.length ? exact : all.filter((v) => key(v.Name) === key(name));
    if (loose.length === 1) return (loose[0] as ValuesListValue).Id;
    throw mappingError(
      `fields.${field}`,
      `"${name}" is not ${loose.length > 1 ? "a unique" : "an"} entry of the values list of "${field}"; its entries are ${all.map((v) => v.Name).join(", ")}`,
    );
  }
}

export function mappingError(where: string, detail: string): ArcherError {
  return new ArcherError("ARCHER_MAPPING_INVALID", `archer mapping ${where}: ${detail}`);
}

function suggest(name: string, names: string[]): string {
  const close = names.filter((n) => n.toLowerCase() === name.toLowerCase());
  return close.length ? `; did you mean "${close[0]}"?` : "";
}
