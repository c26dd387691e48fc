import { inject } from "vitest";
import { MlflowClient } from "../client.js";
import { MlflowConfig, type MlflowConfigInput } from "../config.js";

/** The seeded test server (started once per run by the global setup). */
export const mlflow = () => inject("mlflow");

/** A client with test-friendly backoff (no real waiting unless a test asks for it). */
export function testClient(overrides: Partial<MlflowConfigInput> = {}, env: NodeJS.ProcessEnv = {}) {
  const config = MlflowConfig.parse({ trackingUri: mlflow().url, auth: { type: "none" }, ...overrides });
  return new MlflowClient(config, { env, http: { backoff: { baseMs: 1, maxMs: 5 } } });
}

export async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

/**
 * A fresh registered model with `count` versions, so a test that mutates the registry cannot
 * race the other test files sharing the server. Versions reuse a seeded run-artifact source.
 */
export async function createTestModel(prefix: string, count: number): Promise<string> {
  const client = testClient();
  const name = `${prefix}-${Math.random().toString(36).slice(2, 10)}`;
  const source = (
    mlflow().manifest.models["fraud-detector"] as { versions: { source: string; run_id: string }[] }
  ).versions[0];
  await client.http.json({ method: "POST", path: "api/2.0/mlflow/registered-models/create", json: { name } });
  for (let i = 0; i < count; i++) {
    await client.http.json({
      method: "POST",
      path: "api/2.0/mlflow/model-versions/create",
      json: { name, source: source?.source, run_id: source?.run_id },
    });
  }
  await client.close();
  return name;
}
