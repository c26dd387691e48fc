import { errorClass } from "../../src/core/errors.js";

/** Vanta's error codes, with the exit code the CLI returns for each. */
export const VantaError = errorClass({
  // 2: the OAuth client in the config is refused.
  VANTA_AUTH_FAILED: 2,
  // 3: Vanta answered something sealgate cannot read.
  VANTA_RESPONSE_INVALID: 3,
});
export type VantaError = InstanceType<typeof VantaError>;
