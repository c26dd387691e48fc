import { errorClass } from "../../src/core/errors.js";
import { type ErrorBodyReader, jsonObject, nonEmptyString } from "../../src/core/http/errors.js";

/** MLflow's error codes, with the exit code the CLI returns for each. */
export const MlflowError = errorClass({
  // 3: the tracking server answered something sealgate cannot read or fetch.
  MLFLOW_RESPONSE_INVALID: 3,
  MLFLOW_UNSUPPORTED_ARTIFACT_URI: 3,
});
export type MlflowError = InstanceType<typeof MlflowError>;

/** MLflow's error body: `{error_code, message}`. */
export const mlflowErrorBody: ErrorBodyReader = (text, contentType) => {
  const body = jsonObject(text, contentType);
  const code = nonEmptyString(body?.error_code);
  return { ...(code ? { code } : {}), message: nonEmptyString(body?.message) ?? text.trim() };
};
