import { mlflow } from "./mlflow/index.js";

/*
 * Every registry source sealgate can govern, by its config key. The entry points (app, cli,
 * dev) open a source through here; nothing else imports a source's folder.
 */
export const SOURCES = { mlflow } as const;

export { MlflowConfig } from "./mlflow/config.js";
