import { createHash } from "node:crypto";
import { mkdir, readFile } from "node:fs/promises";
import { dirname } from "node:path";
import { z } from "zod";
import { SealgateError } from "../../src/core/errors.js";
import { writeFileAtomic } from "../../src/core/util/atomic-file.js";
import type { MlflowClient } from "./client.js";
import { modelMatcher } from "./config.js";
import type { VersionChange, VersionChangedEvent } from "./events.js";
import { fetchWatched } from "./registry.js";
import { type ModelVersion, tagMap } from "./responses.js";

/*
 * MLflow does not bump last_updated_timestamp when a tag or alias changes, so polling by time
 * misses approvals written as tags. Instead every version is fingerprinted (tags, aliases,
 * status, description, source) and compared with the state last seen, persisted on disk.
 * A full pass costs one registered-model search plus one version search per page of versions.
 */

const VersionState = z.strictObject({
  tags: z.record(z.string(), z.string()),
  aliases: z.array(z.string()),
  status: z.string(),
  description: z.string(),
  source: z.string(),
  fingerprint: z.string().regex(/^[0-9a-f]{64}$/),
});
export type VersionState = z.infer<typeof VersionState>;

const StateFile = z.strictObject({
  format: z.literal("sealgate.mlflow-state/1"),
  trackingUri: z.string(),
  versions: z.record(z.string(), VersionState),
});
type StateFile = z.infer<typeof StateFile>;

export const versionKey = (model: string, version: string) => `${model}\n${version}`;

export function fingerprint(s: Omit<VersionState, "fingerprint">): string {
  const canonical = JSON.stringify([
    Object.entries(s.tags).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
    [...s.aliases].sort(),
    s.status,
    s.description,
    s.source,
  ]);
  return createHash("sha256").update(canonical).digest("hex");
}

export function versionState(v: ModelVersion, aliases: readonly string[]): VersionState {
  const base = {
    tags: tagMap(v.tags),
    aliases: [...aliases].sort(),
    status: v.status,
    description: v.description,
    source: v.source,
  };
  return { ...base, fingerprint: fingerprint(base) };
}

/** The current state of every watched version. */
export async function snapshot(client: MlflowClient): Promise<Map<string, VersionState>> {
  const { models, versions } = await fetchWatched(client);
  const aliasesByVersion = new Map<string, string[]>();
  for (const m of models) {
    for (const a of m.aliases) {
      const key = versionKey(m.name, a.version);
      aliasesByVersion.set(key, [...(aliasesByVersion.get(key) ?? []), a.alias]);
    }
  }
  const out = new Map<string, VersionState>();
  for (const v of versions) {
    const key = versionKey(v.name, v.version);
    out.set(key, versionState(v, aliasesByVersion.get(key) ?? []));
  }
  return out;
}

/** What changed between two states of one version. */
export function diffVersion(
  before: VersionState | undefined,
  after: VersionState | undefined,
): VersionChange[] {
  if (!before && !after) return [];
  if (!before) return [{ kind: "created" }];
  if (!after) return [{ kind: "deleted" }];
  if (before.fingerprint === after.fingerprint) return [];
  const changes: VersionChange[] = [];
  for (const key of new Set([...Object.keys(before.tags), ...Object.keys(after.tags)])) {
    const b = before.tags[key] ?? null;
    const a = after.tags[key] ?? null;
    if (a !== b) changes.push({ kind: "tag", key, before: b, after: a });
  }
  for (const alias of new Set([...before.aliases, ...after.aliases])) {
    const b = before.aliases.includes(alias);
    const a = after.aliases.includes(alias);
    if (a !== b) changes.push({ kind: "alias", alias, before: b, after: a });
  }
  for (const field of ["status", "description", "source"] as const) {
    if (before[field] !== after[field])
      changes.push({ kind: "field", field, before: before[field], after: after[field] });
  }
  return changes;
}

/** The last-seen state on disk. A missing file is a first run; a corrupt one is an error. */
export class ReconcileState {
  constructor(
    readonly path: string,
    readonly trackingUri: string,
  ) {}

  async load(): Promise<Map<string, VersionState>> {
    let text: string;
    try {
      text = await readFile(this.path, "utf8");
    } catch (err) {
      if ((err as { code?: string }).code === "ENOENT") return new Map();
      throw new SealgateError("IO", `cannot read reconcile state ${this.path}`, { cause: err });
    }
    let parsed: StateFile;
    try {
      parsed = StateFile.parse(JSON.parse(text));
    } catch (cause) {
      throw new SealgateError(
        "STATE_CORRUPT",
        `reconcile state ${this.path} is not a valid state file; move it aside to re-baseline (every version is then reported once as created)`,
        { cause },
      );
    }
    if (parsed.trackingUri !== this.trackingUri) {
      throw new SealgateError(
        "STATE_CORRUPT",
        `reconcile state ${this.path} belongs to ${parsed.trackingUri}, not ${this.trackingUri}; use a state directory per MLflow server`,
      );
    }
    return new Map(Object.entries(parsed.versions));
  }

  async save(state: Map<string, VersionState>): Promise<void> {
    const file: StateFile = {
      format: "sealgate.mlflow-state/1",
      trackingUri: this.trackingUri,
      versions: Object.fromEntries([...state].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))),
    };
    await mkdir(dirname(this.path), { recursive: true });
    await writeFileAtomic(this.path, `${JSON.stringify(file)}\n`);
  }
}

export interface ReconcileResult {
  events: VersionChangedEvent[];
  /** Every watched version as it is now, by versionKey(model, version). */
  current: Map<string, VersionState>;
  /** Persist the new state. Call after the events are handled, so a crash replays them. */
  commit(): Promise<void>;
}

/** Compare MLflow now with the last seen state; one event per changed version. */
export async function reconcile(
  client: MlflowClient,
  state: ReconcileState,
  now: () => Date = () => new Date(),
): Promise<ReconcileResult> {
  const before = await state.load();
  const after = await snapshot(client);
  const observedAt = now().toISOString();
  const events: VersionChangedEvent[] = [];
  const matches = modelMatcher(client.config.models);
  for (const key of new Set([...before.keys(), ...after.keys()])) {
    const [model, version] = key.split("\n") as [string, string];
    if (!after.has(key) && !matches(model)) continue;
    const changes = diffVersion(before.get(key), after.get(key));
    if (changes.length) events.push({ model, version, origin: "reconcile", changes, observedAt });
  }
  events.sort((a, b) =>
    a.model === b.model ? Number(a.version) - Number(b.version) : a.model < b.model ? -1 : 1,
  );
  return { events, current: after, commit: () => state.save(after) };
}
