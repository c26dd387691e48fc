import { readFileSync } from "node:fs";
import type { Readable } from "node:stream";
import type { Logger } from "pino";
import { resolveSecret } from "../../src/core/secrets.js";
import { SealgateError } from "../../src/core/errors.js";
import { HttpClient, type HttpClientOptions, type Query } from "../../src/core/http/client.js";
import type { MlflowConfig } from "./config.js";
import {
  GetDownloadUri,
  GetLoggedModel,
  GetModelVersion,
  GetRegisteredModel,
  GetRun,
  ListArtifacts,
  type LoggedModel,
  type ModelVersion,
  parseResponse,
  type RegisteredModel,
  type Run,
  SearchModelVersions,
  SearchRegisteredModels,
} from "./responses.js";
import { MlflowError, mlflowErrorBody } from "./errors.js";

const API = "api/2.0/mlflow";

/** `Authorization` for MLflow: config first, then the env vars the MLflow clients use. */
export function mlflowAuthHeader(
  auth: MlflowConfig["auth"],
  env: NodeJS.ProcessEnv = process.env,
): string | null {
  if (auth?.type === "none") return null;
  if (auth?.type === "basic") {
    const password = resolveSecret(auth.password, "mlflow.auth.password", env);
    return `Basic ${Buffer.from(`${auth.username}:${password}`).toString("base64")}`;
  }
  if (auth?.type === "bearer") return `Bearer ${resolveSecret(auth.token, "mlflow.auth.token", env)}`;
  const {
    MLFLOW_TRACKING_USERNAME: user,
    MLFLOW_TRACKING_PASSWORD: pass,
    MLFLOW_TRACKING_TOKEN: token,
  } = env;
  if (user && pass) return `Basic ${Buffer.from(`${user}:${pass}`).toString("base64")}`;
  if (token) return `Bearer ${token}`;
  return null;
}

/**
 * Typed access to the MLflow tracking server's REST API. Every answer is validated; paging
 * is followed to the end; writes are the few the gate and the sealer need.
 */
export class MlflowClient {
  readonly http: HttpClient;

  constructor(
    readonly config: MlflowConfig,
    options: { logger?: Logger; env?: NodeJS.ProcessEnv; http?: Partial<HttpClientOptions> } = {},
  ) {
    const header = mlflowAuthHeader(config.auth, options.env);
    let ca: string | undefined;
    if (config.caBundle) {
      try {
        ca = readFileSync(config.caBundle, "utf8");
      } catch (cause) {
        throw new SealgateError("CONFIG_INVALID", `mlflow.caBundle: cannot read ${config.caBundle}`, {
          cause,
        });
      }
    }
    this.http = new HttpClient({
      baseUrl: config.trackingUri,
      timeoutMs: config.timeoutMs,
      connections: config.concurrency * 2,
      ...(header ? { authHeaders: () => ({ authorization: header }) } : {}),
      ...(ca ? { ca } : {}),
      ...(options.logger ? { logger: options.logger } : {}),
      errorBody: mlflowErrorBody,
      ...options.http,
    });
  }

  private get(path: string, query?: Query) {
    return this.http.json({ method: "GET", path: `${API}/${path}`, ...(query ? { query } : {}) });
  }

  /** Every registered model matching an MLflow filter string, all pages. */
  async *registeredModels(filter?: string): AsyncGenerator<RegisteredModel> {
    let page_token: string | undefined;
    do {
      const body = await this.get("registered-models/search", {
        max_results: this.config.pageSize,
        filter,
        page_token,
      });
      const page = parseResponse(SearchRegisteredModels, body, "registered-models/search");
      yield* page.registered_models;
      page_token = page.next_page_token || undefined;
    } while (page_token);
  }

  /**
   * Every model version matching a filter, all pages. Note: the SQL store answers `aliases: []`
   * here (mlflow#9783); take aliases from registeredModels() instead.
   */
  async *modelVersions(filter?: string): AsyncGenerator<ModelVersion> {
    let page_token: string | undefined;
    do {
      const body = await this.get("model-versions/search", {
        max_results: this.config.versionPageSize,
        filter,
        page_token,
      });
      const page = parseResponse(SearchModelVersions, body, "model-versions/search");
      yield* page.model_versions;
      page_token = page.next_page_token || undefined;
    } while (page_token);
  }

  async registeredModel(name: string): Promise<RegisteredModel> {
    const body = await this.get("registered-models/get", { name });
    return parseResponse(GetRegisteredModel, body, "registered-models/get").registered_model;
  }

  async modelVersion(name: string, version: string): Promise<ModelVersion> {
    const body = await this.get("model-versions/get", { name, version });
    return parseResponse(GetModelVersion, body, "model-versions/get").model_version;
  }

  async downloadUri(name: string, version: string): Promise<string> {
    const body = await this.get("model-versions/get-download-uri", { name, version });
    return parseResponse(GetDownloadUri, body, "model-versions/get-download-uri").artifact_uri;
  }

  async run(runId: string): Promise<Run> {
    return parseResponse(GetRun, await this.get("runs/get", { run_id: runId }), "runs/get").run;
  }

  async loggedModel(modelId: string): Promise<LoggedModel> {
    if (!/^m-[0-9a-f]{32}$/.test(modelId)) {
      throw new MlflowError(
        "MLFLOW_RESPONSE_INVALID",
        `not an MLflow logged-model id: ${JSON.stringify(modelId)}`,
      );
    }
    const body = await this.get(`logged-models/${modelId}`);
    return parseResponse(GetLoggedModel, body, "logged-models/get").model;
  }

  /** One page of the run-artifact listing (one directory level). */
  async listRunArtifacts(runId: string, path: string, pageToken?: string) {
    const body = await this.get("artifacts/list", {
      run_id: runId,
      path: path || undefined,
      page_token: pageToken,
    });
    return parseResponse(ListArtifacts, body, "artifacts/list");
  }

  /** One directory level under the served-artifacts root; entries are basenames. */
  async listProxiedArtifacts(path: string) {
    const body = await this.http.json({
      method: "GET",
      path: "api/2.0/mlflow-artifacts/artifacts",
      query: { path: path || undefined },
    });
    return parseResponse(ListArtifacts, body, "mlflow-artifacts/artifacts (list)");
  }

  /** The bytes of one served artifact, as a stream: memory stays flat whatever the size. */
  async openProxiedArtifact(path: string): Promise<{ body: Readable; size: number | undefined }> {
    const encoded = path.split("/").map(encodeURIComponent).join("/");
    const res = await this.http.stream({
      method: "GET",
      path: `api/2.0/mlflow-artifacts/artifacts/${encoded}`,
      headers: { accept: "*/*" },
    });
    const length = res.headers["content-length"];
    const size = typeof length === "string" && /^\d+$/.test(length) ? Number(length) : undefined;
    return { body: res.body, size };
  }

  async setModelVersionTag(name: string, version: string, key: string, value: string): Promise<void> {
    await this.http.json({
      method: "POST",
      path: `${API}/model-versions/set-tag`,
      json: { name, version, key, value },
    });
  }

  async deleteModelVersionTag(name: string, version: string, key: string): Promise<void> {
    await this.http.json({
      method: "DELETE",
      path: `${API}/model-versions/delete-tag`,
      json: { name, version, key },
    });
  }

  async setAlias(name: string, alias: string, version: string): Promise<void> {
    await this.http.json({
      method: "POST",
      path: `${API}/registered-models/alias`,
      json: { name, alias, version },
    });
  }

  async deleteAlias(name: string, alias: string): Promise<void> {
    await this.http.json({ method: "DELETE", path: `${API}/registered-models/alias`, json: { name, alias } });
  }

  close(): Promise<void> {
    return this.http.close();
  }
}
