import { createHash } from "node:crypto";
import { join } from "node:path";
import type { Logger } from "pino";
import type { ModelManifest } from "../../src/source/digest/model.js";
import type {
  ChangeSet,
  FileRoot,
  ListedModel,
  RegistrySource,
  SourceModel,
  SourceRun,
  SourceVersion,
  WebhookIntake,
} from "../../src/source/registry-source.js";
import { listArtifactTree, modelVersionRoot, openArtifact, runArtifactRoot } from "./artifacts.js";
import { MlflowClient } from "./client.js";
import { type MlflowConfig, modelMatcher } from "./config.js";
import { parseMlModel } from "./mlmodel.js";
import { hashMlflowModel } from "./model-hash.js";
import { ReconcileState, reconcile } from "./reconcile.js";
import { fetchWatched } from "./registry.js";
import { type ModelVersion, type Run, tagMap } from "./responses.js";
import { WebhookReceiver, webhookHandler } from "./webhook.js";

/*
 * MLflow as sealgate's RegistrySource: the REST client's answers turned into the neutral types,
 * artifact roots as the proxied paths behind MLflow's download and run URIs.
 */

const root = (path: string) => path as FileRoot;

export function sourceVersion(v: ModelVersion): SourceVersion {
  return {
    model: v.name,
    version: v.version,
    status: v.status,
    createdAt: v.creation_timestamp,
    createdBy: v.user_id,
    source: v.source,
    runId: v.run_id,
    tags: tagMap(v.tags),
  };
}

export function sourceRun(run: Run): SourceRun {
  return {
    id: run.info.run_id,
    metrics: Object.fromEntries(
      run.data.metrics.filter((m) => typeof m.value === "number").map((m) => [m.key, m.value as number]),
    ),
    tags: tagMap(run.data.tags),
    datasets: run.inputs.dataset_inputs.map((input) => ({
      name: input.dataset.name,
      digest: input.dataset.digest,
      source: input.dataset.source,
      context: input.tags.find((t) => t.key === "mlflow.data.context")?.value ?? "",
    })),
  };
}

export class MlflowSource implements RegistrySource {
  readonly kind = "mlflow";
  readonly uri: string;
  private readonly matches: (model: string) => boolean;

  constructor(readonly client: MlflowClient) {
    this.uri = client.config.trackingUri;
    this.matches = modelMatcher(client.config.models);
  }

  static open(config: MlflowConfig, o: { env?: NodeJS.ProcessEnv; logger?: Logger } = {}): MlflowSource {
    return new MlflowSource(
      new MlflowClient(config, {
        ...(o.env ? { env: o.env } : {}),
        ...(o.logger ? { logger: o.logger } : {}),
      }),
    );
  }

  watched(model: string): boolean {
    return this.matches(model);
  }

  async version(model: string, version: string): Promise<SourceVersion> {
    return sourceVersion(await this.client.modelVersion(model, version));
  }

  async model(name: string): Promise<SourceModel> {
    const m = await this.client.registeredModel(name);
    return { name: m.name, aliases: Object.fromEntries(m.aliases.map((a) => [a.alias, a.version])) };
  }

  async run(runId: string): Promise<SourceRun> {
    return sourceRun(await this.client.run(runId));
  }

  async modelFiles(model: string, version: string): Promise<FileRoot> {
    return root(await modelVersionRoot(this.client, model, version));
  }

  async runFiles(runId: string): Promise<FileRoot> {
    return root(await runArtifactRoot(this.client, runId));
  }

  list(at: FileRoot) {
    return listArtifactTree(this.client, at);
  }

  open(at: FileRoot, path: string) {
    return openArtifact(this.client, at, path);
  }

  hashModel(at: FileRoot): Promise<ModelManifest> {
    return hashMlflowModel(this.client, at);
  }

  /** Flavors and input signature from the MLmodel file, when the model has one. */
  async modelClass(at: FileRoot, manifest: ModelManifest, where: string) {
    if (!manifest.files.some((f) => f.name === "MLmodel")) return { flavors: [], features: [] };
    const text = Buffer.concat(await (await this.open(at, "MLmodel")).toArray()).toString("utf8");
    return parseMlModel(text, where);
  }

  async setTags(model: string, version: string, tags: Record<string, string>): Promise<void> {
    for (const [k, v] of Object.entries(tags)) await this.client.setModelVersionTag(model, version, k, v);
  }

  setAlias(model: string, alias: string, version: string): Promise<void> {
    return this.client.setAlias(model, alias, version);
  }

  /** The reconcile state lives under stateDir, one file per tracking server. */
  async changes(stateDir: string): Promise<ChangeSet> {
    const tag = createHash("sha256").update(this.uri).digest("hex").slice(0, 12);
    const state = new ReconcileState(join(stateDir, `mlflow-${tag}.json`), this.uri);
    const r = await reconcile(this.client, state);
    const current = [...r.current.entries()].map(([k, v]) => {
      const [model, version] = k.split("\n") as [string, string];
      return { model, version, tags: v.tags };
    });
    return { events: r.events, current, commit: r.commit };
  }

  webhook(intake: WebhookIntake) {
    const receiver = new WebhookReceiver({
      secret: intake.secret,
      toleranceSeconds: intake.toleranceSeconds,
      ...(intake.seen ? { seen: intake.seen } : {}),
      ...(intake.journal ? { journal: intake.journal } : {}),
    });
    return webhookHandler(receiver, intake.onEvent, intake.onReject);
  }

  async listWatched(): Promise<ListedModel[]> {
    const { models, versions } = await fetchWatched(this.client);
    const byModel = new Map<string, typeof versions>();
    for (const v of versions) {
      const list = byModel.get(v.name);
      if (list) list.push(v);
      else byModel.set(v.name, [v]);
    }
    return models
      .map((m) => ({
        name: m.name,
        description: m.description,
        tags: tagMap(m.tags),
        aliases: Object.fromEntries(m.aliases.map((a) => [a.alias, a.version])),
        versions: (byModel.get(m.name) ?? [])
          .sort((a, b) => Number(b.version) - Number(a.version))
          .map((v) => ({
            version: v.version,
            status: v.status,
            aliases: m.aliases.filter((a) => a.version === v.version).map((a) => a.alias),
            tags: tagMap(v.tags),
            source: v.source,
            runId: v.run_id,
            createdAt: v.creation_timestamp ? new Date(v.creation_timestamp).toISOString() : null,
          })),
      }))
      .sort((a, b) => (a.name < b.name ? -1 : 1));
  }

  async countModels(): Promise<number> {
    let models = 0;
    for await (const _ of this.client.registeredModels()) models++;
    return models;
  }

  async ping(): Promise<void> {
    await this.client.http.json({
      method: "GET",
      path: "api/2.0/mlflow/registered-models/search",
      query: { max_results: 1 },
      retries: 0,
    });
  }

  close(): Promise<void> {
    return this.client.close();
  }
}
