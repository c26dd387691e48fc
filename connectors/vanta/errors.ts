import { errorClass } from "../../src/core/errors.js";
import { type ErrorBodyReader, jsonObject, nonEmptyString } from "../../src/core/http/errors.js";

/** Vanta's error codes, with the exit code the CLI returns for each. */
export const VantaError = errorClass({
  // 2: the OAuth client in the config is refused.
  VANTA_AUTH_FAILED: 2,
  // 3: Vanta answered something sealgate cannot read.
  VANTA_RESPONSE_INVALID: 3,
});
export type VantaError = InstanceType<typeof VantaError>;

/** Vanta's error bodies: the API's `{name, message}`, and OAuth's `{error, error_description}` (the bare code is kept). */
export const vantaErrorBody: ErrorBodyReader = (text, contentType) => {
  const body = jsonObject(text, contentType);
  return { message: nonEmptyString(body?.message) ?? nonEmptyString(body?.error) ?? text.trim() };
};
