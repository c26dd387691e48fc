import { errorClass } from "../../src/core/errors.js";

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
