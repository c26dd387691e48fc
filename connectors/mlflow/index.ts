import type { SourceModule } from "../../src/source/registry-source.js";
import { MLFLOW_SECRET_PATHS, MlflowConfig } from "./config.js";
import { MlflowSource } from "./source.js";

/** The MLflow tracking server as a registry source: its config section and how to open it. */
export const mlflow: SourceModule<MlflowConfig> = {
  kind: "mlflow",
  config: MlflowConfig,
  secretPaths: MLFLOW_SECRET_PATHS,
  create: (config, o = {}) => MlflowSource.open(config, o),
};
