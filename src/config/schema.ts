import { z } from "zod";
import { MlflowConfig } from "../../connectors/mlflow/config.js";

/** The whole sealgate config file. Unknown keys are errors: a typo must never be ignored. */
export const SealgateConfig = z.strictObject({
  mlflow: MlflowConfig,
});
export type SealgateConfig = z.infer<typeof SealgateConfig>;
