import { z } from "zod";
import { MlflowConfig } from "../../connectors/mlflow/config.js";

/** The whole sealgate config file. Unknown keys are errors: a typo must never be ignored. */
export const SealgateConfig = z.strictObject({
  mlflow: MlflowConfig,
  store: z
    .strictObject({
      path: z.string().min(1).describe("directory of the evidence store (objects/ and ledger/)"),
    })
    .optional(),
  policy: z
    .string()
    .min(1)
    .optional()
    .describe("path of the governance policy file (see config/policy.example.yaml)"),
});
export type SealgateConfig = z.infer<typeof SealgateConfig>;
