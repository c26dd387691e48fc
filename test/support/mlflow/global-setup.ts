import type { TestProject } from "vitest/node";
import {
  type Backend,
  type SeedManifest,
  seedMlflow,
  startMlflowServer,
} from "../../../src/dev/mlflow-server.js";

/*
 * One real MLflow server for the whole run, seeded once through the official Python client.
 * SEALGATE_TEST_MLFLOW_BACKEND=postgres runs it on the local PostgreSQL instead of SQLite.
 */

declare module "vitest" {
  export interface ProvidedContext {
    mlflow: { url: string; backend: Backend; manifest: SeedManifest };
  }
}

export default async function setup(project: TestProject) {
  // For tasks that need no server (npm run schemas); tests that inject("mlflow") then fail loudly.
  if (process.env.SEALGATE_TEST_NO_MLFLOW === "1") return;
  const backend = (process.env.SEALGATE_TEST_MLFLOW_BACKEND ?? "sqlite") as Backend;
  if (backend !== "sqlite" && backend !== "postgres") {
    throw new Error(`SEALGATE_TEST_MLFLOW_BACKEND must be sqlite or postgres, not ${backend}`);
  }
  const log = (msg: string) => process.stderr.write(`[mlflow] ${msg}\n`);
  const started = Date.now();
  const server = await startMlflowServer({ backend, log });
  try {
    const manifest = await seedMlflow(server);
    log(`${backend} server at ${server.url} seeded in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    project.provide("mlflow", { url: server.url, backend, manifest });
  } catch (err) {
    await server.stop();
    throw err;
  }
  return () => server.stop();
}
