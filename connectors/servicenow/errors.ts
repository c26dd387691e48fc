import { errorClass } from "../../src/core/errors.js";
import { type ErrorBodyReader, jsonObject, nonEmptyString } from "../../src/core/http/errors.js";

/** ServiceNow's error codes, with the exit code the CLI returns for each. */
export const ServiceNowError = errorClass({
  // 2: the config names credentials or a table ServiceNow refuses.
  SERVICENOW_AUTH_FAILED: 2,
  SERVICENOW_TARGET_INVALID: 2,
  // 3: ServiceNow answered something sealgate cannot read.
  SERVICENOW_RESPONSE_INVALID: 3,
});
export type ServiceNowError = InstanceType<typeof ServiceNowError>;

/**
 * ServiceNow's error bodies: the Table API's `{error: {message, detail}, status: "failure"}`,
 * and its OAuth endpoint's `{error, error_description}` (the bare code is kept).
 */
export const serviceNowErrorBody: ErrorBodyReader = (text, contentType) => {
  const body = jsonObject(text, contentType);
  const nested = body?.error && typeof body.error === "object" ? (body.error as Record<string, unknown>) : {};
  const envelope = [nonEmptyString(nested.message), nonEmptyString(nested.detail)].filter(Boolean).join(": ");
  return {
    message:
      nonEmptyString(body?.message) ?? nonEmptyString(envelope) ?? nonEmptyString(body?.error) ?? text.trim(),
  };
};
