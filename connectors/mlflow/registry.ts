import type { MlflowClient } from "./client.js";
import { modelMatcher } from "./config.js";
import type { ModelVersion, RegisteredModel } from "./responses.js";

export interface WatchedRegistry {
  models: RegisteredModel[];
  versions: ModelVersion[];
}

/**
 * Every watched registered model and all of its versions, in as few requests as MLflow allows:
 * watching every model costs one unfiltered version search (paged); watching a few of many
 * costs one filtered search per model. Aliases come from the models (version search drops them).
 */
export async function fetchWatched(client: MlflowClient): Promise<WatchedRegistry> {
  const matches = modelMatcher(client.config.models);
  const models: RegisteredModel[] = [];
  let total = 0;
  for await (const m of client.registeredModels()) {
    total++;
    if (matches(m.name)) models.push(m);
  }
  const names = new Set(models.map((m) => m.name));
  // A quote cannot be escaped portably in MLflow's filter grammar: such names use the full scan.
  const perModel = models.length < total && models.length <= 20 && models.every((m) => !m.name.includes("'"));
  const filters = perModel ? models.map((m) => `name = '${m.name}'`) : [undefined];
  const versions: ModelVersion[] = [];
  for (const filter of filters) {
    for await (const v of client.modelVersions(filter)) if (names.has(v.name)) versions.push(v);
  }
  return { models, versions };
}
