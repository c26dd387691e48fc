import { z } from "zod";
import { responseParser } from "../../src/core/http/errors.js";
import { MlflowError } from "./errors.js";

/*
 * What MLflow's REST API answers, as far as sealgate relies on it. Responses are untrusted:
 * every one is parsed here, unknown fields are dropped, and a wrong shape is a typed error
 * naming the endpoint and the field. Unset proto fields are omitted on the wire, hence defaults.
 */

const Tag = z.object({ key: z.string(), value: z.string().default("") });
const Version = z
  .string()
  .regex(/^[1-9]\d{0,17}$/, { message: "model version must be a positive decimal string" });

export const ModelVersion = z.object({
  name: z.string().min(1),
  version: Version,
  creation_timestamp: z.number().optional(),
  last_updated_timestamp: z.number().optional(),
  user_id: z.string().optional(),
  current_stage: z.string().optional(),
  description: z.string().default(""),
  source: z.string().default(""),
  run_id: z.string().default(""),
  status: z.string().default("READY"),
  status_message: z.string().optional(),
  tags: z.array(Tag).default([]),
  run_link: z.string().optional(),
  aliases: z.array(z.string()).default([]),
  model_id: z.string().optional(),
});
export type ModelVersion = z.infer<typeof ModelVersion>;

export const RegisteredModel = z.object({
  name: z.string().min(1),
  creation_timestamp: z.number().optional(),
  last_updated_timestamp: z.number().optional(),
  description: z.string().default(""),
  latest_versions: z.array(ModelVersion).default([]),
  tags: z.array(Tag).default([]),
  aliases: z.array(z.object({ alias: z.string(), version: Version })).default([]),
});
export type RegisteredModel = z.infer<typeof RegisteredModel>;

export const SearchRegisteredModels = z.object({
  registered_models: z.array(RegisteredModel).default([]),
  next_page_token: z.string().optional(),
});
export const SearchModelVersions = z.object({
  model_versions: z.array(ModelVersion).default([]),
  next_page_token: z.string().optional(),
});
export const GetRegisteredModel = z.object({ registered_model: RegisteredModel });
export const GetModelVersion = z.object({ model_version: ModelVersion });
export const GetDownloadUri = z.object({ artifact_uri: z.string().min(1) });

const Metric = z.object({ key: z.string(), value: z.number().or(z.enum(["NaN", "Infinity", "-Infinity"])) });
const Param = z.object({ key: z.string(), value: z.string().default("") });
const DatasetInput = z.object({
  tags: z.array(Tag).default([]),
  dataset: z.object({
    name: z.string(),
    digest: z.string(),
    source_type: z.string().default(""),
    source: z.string().default(""),
    schema: z.string().optional(),
    profile: z.string().optional(),
  }),
});

export const Run = z.object({
  info: z.object({
    run_id: z.string().min(1),
    experiment_id: z.string(),
    status: z.string().optional(),
    start_time: z.number().optional(),
    end_time: z.number().optional(),
    artifact_uri: z.string().default(""),
    lifecycle_stage: z.string().optional(),
  }),
  data: z
    .object({
      metrics: z.array(Metric).default([]),
      params: z.array(Param).default([]),
      tags: z.array(Tag).default([]),
    })
    .default({ metrics: [], params: [], tags: [] }),
  inputs: z
    .object({
      dataset_inputs: z.array(DatasetInput).default([]),
      model_inputs: z.array(z.object({ model_id: z.string() })).default([]),
    })
    .default({ dataset_inputs: [], model_inputs: [] }),
  outputs: z
    .object({
      model_outputs: z.array(z.object({ model_id: z.string(), step: z.number().optional() })).default([]),
    })
    .default({ model_outputs: [] }),
});
export type Run = z.infer<typeof Run>;
export const GetRun = z.object({ run: Run });

export const LoggedModel = z.object({
  info: z.object({
    model_id: z.string().min(1),
    experiment_id: z.string(),
    name: z.string().default(""),
    artifact_uri: z.string().min(1),
    status: z.string().optional(),
    source_run_id: z.string().optional(),
    tags: z.array(Tag).default([]),
  }),
  data: z
    .object({ params: z.array(Param).default([]), metrics: z.array(Metric).default([]) })
    .default({ params: [], metrics: [] }),
});
export type LoggedModel = z.infer<typeof LoggedModel>;
export const GetLoggedModel = z.object({ model: LoggedModel });

export const ArtifactFile = z.object({
  path: z.string(),
  is_dir: z.boolean().default(false),
  file_size: z.union([z.number(), z.string().regex(/^\d+$/).transform(Number)]).optional(),
});
export const ListArtifacts = z.object({
  root_uri: z.string().optional(),
  files: z.array(ArtifactFile).default([]),
  next_page_token: z.string().optional(),
});

/** Parse a MLflow response or fail naming the endpoint and the offending field. */
export const parseResponse = responseParser("MLflow", MlflowError, "MLFLOW_RESPONSE_INVALID");

export function tagMap(tags: readonly { key: string; value: string }[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const t of [...tags].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0)))
    out[t.key] = t.value;
  return out;
}
