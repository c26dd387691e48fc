import { errorClass } from "../../src/core/errors.js";

/** MLflow's error codes, with the exit code the CLI returns for each. */
export const MlflowError = errorClass({
  // 3: the tracking server answered something sealgate cannot read or fetch.
  MLFLOW_RESPONSE_INVALID: 3,
  MLFLOW_UNSUPPORTED_ARTIFACT_URI: 3,
});
export type MlflowError = InstanceType<typeof MlflowError>;
