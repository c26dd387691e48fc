import { errorClass } from "../../src/core/errors.js";
import { type ErrorBodyReader, jsonObject, nonEmptyString } from "../../src/core/http/errors.js";

/** Archer's error codes, with the exit code the CLI returns for each. */
export const ArcherError = errorClass({
  // 2: the config's login or field mapping does not fit this Archer.
  ARCHER_LOGIN_FAILED: 2,
  ARCHER_MAPPING_INVALID: 2,
  // 3: Archer refused a write or answered something sealgate cannot read.
  ARCHER_REJECTED: 3,
  ARCHER_RESPONSE_INVALID: 3,
  ARCHER_DUPLICATE_RECORD: 3,
});
export type ArcherError = InstanceType<typeof ArcherError>;

/**
 * Archer's error bodies: the REST envelope's `ValidationMessages[].ResourcedMessage`, and the
 * content API's OData `{error: {code, message}}`.
 */
export const archerErrorBody: ErrorBodyReader = (text, contentType) => {
  const body = jsonObject(text, contentType);
  const odata = body?.error && typeof body.error === "object" ? (body.error as Record<string, unknown>) : {};
  const messages = Array.isArray(body?.ValidationMessages) ? (body.ValidationMessages as unknown[]) : [];
  const validation = messages
    .map((m) => (m && typeof m === "object" ? (m as Record<string, unknown>).ResourcedMessage : undefined))
    .filter((m) => typeof m === "string")
    .join("; ");
  return {
    message:
      nonEmptyString(body?.message) ??
      nonEmptyString(odata.message) ??
      nonEmptyString(validation) ??
      text.trim(),
  };
};
