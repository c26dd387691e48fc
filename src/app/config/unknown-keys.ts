import type { z } from "zod";

/*
 * Config objects are strict, so a misspelt key is an `unrecognized_keys` issue. That issue only
 * says which key is unknown; the keys that would have been right are found by following the
 * issue's path through the schema (and, at unions, the input's discriminator), and the nearest
 * of them by edit distance is the likely intent.
 */

interface Def {
  type: string;
  innerType?: z.core.$ZodType;
  in?: z.core.$ZodType;
  getter?: () => z.core.$ZodType;
  shape?: Record<string, z.core.$ZodType>;
  valueType?: z.core.$ZodType;
  element?: z.core.$ZodType;
  options?: z.core.$ZodType[];
  discriminator?: string;
  left?: z.core.$ZodType;
  right?: z.core.$ZodType;
}

const WRAPPERS = ["optional", "nullable", "default", "prefault", "readonly", "catch", "nonoptional"];

const child = (raw: unknown, key: PropertyKey): unknown =>
  raw && typeof raw === "object" ? (raw as Record<PropertyKey, unknown>)[key] : undefined;

/** The keys the object schema at `path` knows; [] where the path leads to no object schema. */
export function knownKeysAt(schema: z.core.$ZodType, path: readonly PropertyKey[], raw: unknown): string[] {
  const def = schema._zod.def as unknown as Def;
  if (WRAPPERS.includes(def.type) && def.innerType) return knownKeysAt(def.innerType, path, raw);
  const [key, ...rest] = path;
  switch (def.type) {
    case "pipe":
      return knownKeysAt(def.in!, path, raw);
    case "lazy":
      return knownKeysAt(def.getter!(), path, raw);
    case "intersection":
      return [...knownKeysAt(def.left!, path, raw), ...knownKeysAt(def.right!, path, raw)];
    case "union":
      return unionOptions(def, raw).flatMap((o) => knownKeysAt(o, path, raw));
    case "object":
      if (key === undefined) return Object.keys(def.shape!);
      return def.shape![key as string] ? knownKeysAt(def.shape![key as string]!, rest, child(raw, key)) : [];
    case "record":
      return key === undefined ? [] : knownKeysAt(def.valueType!, rest, child(raw, key));
    case "array":
      return key === undefined ? [] : knownKeysAt(def.element!, rest, child(raw, key));
    default:
      return [];
  }
}

/** A discriminated union's option for the input's discriminator value, else every option. */
function unionOptions(def: Def, raw: unknown): z.core.$ZodType[] {
  const options = def.options ?? [];
  if (!def.discriminator) return options;
  const value = child(raw, def.discriminator);
  const chosen = options.filter((o) => o._zod.propValues?.[def.discriminator!]?.has(value as never));
  return chosen.length ? chosen : options;
}

/** Optimal string alignment distance: insertions, deletions, substitutions, adjacent swaps. */
export function editDistance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0]![j] = j;
  for (let i = 1; i <= a.length; i++)
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        best = Math.min(best, d[i - 2]![j - 2]! + 1);
      d[i]![j] = best;
    }
  return d[a.length]![b.length]!;
}

/**
 * The known key nearest to `unknown`, ignoring case, if it is a plausible typo: at most 3 edits
 * and sharing more than half its letters, or a shortened form (`tolerance` for
 * `toleranceSeconds`).
 */
export function nearestKey(unknown: string, known: readonly string[]): string | undefined {
  const u = unknown.toLowerCase();
  let best: { key: string; distance: number } | undefined;
  for (const key of new Set(known)) {
    const k = key.toLowerCase();
    const distance = editDistance(u, k);
    const similar =
      distance <= 3 && (Math.max(u.length, k.length) - distance) / Math.max(u.length, k.length) > 0.5;
    const shortened = u.length >= 4 && k.startsWith(u);
    if ((similar || shortened) && (!best || distance < best.distance)) best = { key, distance };
  }
  return best?.key;
}
