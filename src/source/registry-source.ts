import type { IncomingMessage, ServerResponse } from "node:http";
import type { Readable } from "node:stream";
import type { Logger } from "pino";
import type { z } from "zod";
import type { ModelManifest } from "./digest/model.js";

/*
 * The model registry sealgate governs, seen from the rest of sealgate: versions with tags, the
 * runs that produced them, their files, and what changed since last time. MLflow is the one
 * implementation today (connectors/mlflow); nothing outside a source's folder knows its API.
 * Everything a source returns is already validated: callers trust the shapes, not the values.
 */

/** One model version as the registry holds it now. */
export interface SourceVersion {
  model: string;
  version: string;
  /** READY when its files are complete and it can be reviewed. */
  status: string;
  /** Milliseconds since the epoch; undefined when the registry does not say. */
  createdAt: number | undefined;
  /** Who registered it (a conflicted party under the policy), when the registry says. */
  createdBy: string | undefined;
  /** Where the registry says the files came from (free text, recorded as is). */
  source: string;
  /** The run that produced it; "" when none. */
  runId: string;
  tags: Record<string, string>;
}

/** A registered model: its aliases, alias → version. */
export interface SourceModel {
  name: string;
  aliases: Record<string, string>;
}

/** A dataset a run logged as input, as the registry describes it (not yet content-addressed). */
export interface SourceDatasetInput {
  name: string;
  /** The registry's own digest: a label, not a content hash. */
  digest: string;
  /** The registry's description of where the data is (JSON or a URI). */
  source: string;
  /** e.g. training or eval. */
  context: string;
}

/** The run behind a version: what was measured and on which data. */
export interface SourceRun {
  id: string;
  /** Numeric metrics only. */
  metrics: Record<string, number>;
  tags: Record<string, string>;
  datasets: SourceDatasetInput[];
}

/** Where a set of files lives in the registry; opaque to callers, resolved once, reused. */
export type FileRoot = string & { readonly __fileRoot: unique symbol };

export interface SourceFile {
  /** Relative to its root, `/`-separated. */
  path: string;
  size: number;
}

/** What the source tells the rest of sealgate: a version changed, and how. */
export type VersionChange =
  | { kind: "created" }
  | { kind: "deleted" }
  | { kind: "tag"; key: string; before: string | null; after: string | null }
  | { kind: "alias"; alias: string; before: boolean; after: boolean }
  | {
      kind: "field";
      field: "status" | "description" | "source";
      before: string | null;
      after: string | null;
    };

export interface VersionChangedEvent {
  model: string;
  /** null when the source named only the model (MLflow's alias-deleted webhook carries no version). */
  version: string | null;
  origin: "reconcile" | "webhook";
  changes: VersionChange[];
  /** When sealgate saw the change (ISO 8601); never a timestamp taken from the registry. */
  observedAt: string;
}

/** One pass over the registry against the state last seen. */
export interface ChangeSet {
  events: VersionChangedEvent[];
  /** Every watched version as it is now, with its tags. */
  current: { model: string; version: string; tags: Record<string, string> }[];
  /** Persist the new state. Call after the events are handled, so a crash replays them. */
  commit(): Promise<void>;
}

/** A refused webhook delivery, for the log and the metrics. */
export interface WebhookRefusal {
  /** The error code (WEBHOOK_*), or IO when the id could not be recorded; "internal" for a bug. */
  code: string;
  status: number;
  reason: string;
  /** The delivery id as sent (printable ASCII, clipped); absent when the header is missing. */
  deliveryId?: string;
}

export interface WebhookIntake {
  secret: string;
  toleranceSeconds: number;
  /** Delivery ids accepted before a restart, oldest first, with their timestamps (seconds). */
  seen?: Iterable<readonly [string, number]>;
  /** Where each accepted id is written, so a restart still refuses its replay. */
  journal?: { record(deliveryId: string, timestamp: number): Promise<void> };
  onEvent(event: VersionChangedEvent): void;
  onReject(refusal: WebhookRefusal): void;
}

/** `sealgate mlflow ls`: every watched model with its versions, newest first. */
export interface ListedModel {
  name: string;
  description: string;
  tags: Record<string, string>;
  aliases: Record<string, string>;
  versions: {
    version: string;
    status: string;
    aliases: string[];
    tags: Record<string, string>;
    source: string;
    runId: string;
    createdAt: string | null;
  }[];
}

export interface RegistrySource {
  /** Which kind of source (its key in connectors/sources.ts); prefixes readiness reasons. */
  readonly kind: string;
  /** The registry's address, recorded in every package as `model.registry`. */
  readonly uri: string;
  /** Whether sealgate governs this registered model. */
  watched(model: string): boolean;

  version(model: string, version: string): Promise<SourceVersion>;
  model(name: string): Promise<SourceModel>;
  run(runId: string): Promise<SourceRun>;

  /** Where a version's model files live. */
  modelFiles(model: string, version: string): Promise<FileRoot>;
  /** Where a run's artefacts live (explanations, dataset files). */
  runFiles(runId: string): Promise<FileRoot>;
  /** Every file under a root, sorted by path. */
  list(root: FileRoot): Promise<SourceFile[]>;
  /** Stream one file; the caller must consume or destroy the stream. */
  open(root: FileRoot, path: string): Promise<Readable>;
  /** The content digest of a model's files, streamed and hashed, never written to disk. */
  hashModel(root: FileRoot): Promise<ModelManifest>;
  /** The model class and feature contract, from the model's own description of itself. */
  modelClass(
    root: FileRoot,
    manifest: ModelManifest,
    where: string,
  ): Promise<{ flavors: string[]; features: string[] }>;

  /** Write tags on a version, in order. */
  setTags(model: string, version: string, tags: Record<string, string>): Promise<void>;
  setAlias(model: string, alias: string, version: string): Promise<void>;

  /** Compare the registry now with the state last seen (kept under stateDir). */
  changes(stateDir: string): Promise<ChangeSet>;
  /** A node:http handler for pushed change notifications. */
  webhook(intake: WebhookIntake): (req: IncomingMessage, res: ServerResponse) => void;
  /** Every watched model and its versions. */
  listWatched(): Promise<ListedModel[]>;
  /** How many watched models the registry answers with (config check). */
  countModels(): Promise<number>;
  /** One cheap request, no retries: does the registry answer right now? */
  ping(): Promise<void>;
  close(): Promise<void>;
}

/** What a kind of source gives the composition at the top. */
export interface SourceModule<C = unknown> {
  kind: string;
  /** The zod schema of its config section. */
  config: z.ZodType<C>;
  /** Config paths holding secrets, for log redaction. */
  secretPaths: readonly string[];
  create(config: C, o?: { env?: NodeJS.ProcessEnv; logger?: Logger }): RegistrySource;
}
