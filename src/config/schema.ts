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
  trust: z
    .strictObject({
      anchors: z.string().min(1).describe("PEM file of the organisation's root CA(s)"),
      intermediates: z.string().optional().describe("PEM file of intermediate CAs"),
      crls: z.array(z.string()).optional().describe("PEM CRLs"),
    })
    .optional(),
  approvals: z
    .strictObject({
      tagValueLimit: z
        .int()
        .min(100)
        .default(5000)
        .describe(
          "longest approval written into an MLflow tag; longer ones are stored and referenced by digest",
        ),
    })
    .default({ tagValueLimit: 5000 }),
});
export type SealgateConfig = z.infer<typeof SealgateConfig>;
