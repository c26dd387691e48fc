import { errorClass } from "../../src/core/errors.js";

/** ServiceNow's error codes, with the exit code the CLI returns for each. */
export const ServiceNowError = errorClass({
  // 2: the config names credentials or a table ServiceNow refuses.
  SERVICENOW_AUTH_FAILED: 2,
  SERVICENOW_TARGET_INVALID: 2,
  // 3: ServiceNow answered something sealgate cannot read.
  SERVICENOW_RESPONSE_INVALID: 3,
});
export type ServiceNowError = InstanceType<typeof ServiceNowError>;
