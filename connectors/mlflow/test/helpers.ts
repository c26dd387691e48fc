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
