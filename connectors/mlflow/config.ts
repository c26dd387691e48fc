import { z } from "zod";
import { SecretRef } from "../../src/core/secrets.js";

const HttpUrl = z
  .string()
  .refine((s) => /^https?:\/\/[^/]+/.test(s), {
    message: "must be an http:// or https:// URL of the MLflow server",
  })
  .refine((s) => !/^https?:\/\/[^/]*@/.test(s), {
    message: "must not hold credentials; use mlflow.auth with ${ENV} or file: references",
  });

const Auth = z.discriminatedUnion("type", [
  z.strictObject({ type: z.literal("none") }),
  z.strictObject({ type: z.literal("basic"), username: z.string().min(1), password: SecretRef }),
  z.strictObject({ type: z.literal("bearer"), token: SecretRef }),
]);

/** The MLflow source. Defaults live here and nowhere else. */
export const MlflowConfig = z.strictObject({
  trackingUri: HttpUrl.describe("base URL of the MLflow tracking server"),
  auth: Auth.optional().describe(
    "omit to take MLFLOW_TRACKING_USERNAME/MLFLOW_TRACKING_PASSWORD (basic) or MLFLOW_TRACKING_TOKEN (bearer) from the environment",
  ),
  caBundle: z.string().optional().describe("PEM file of CAs trusted for https (replaces the system roots)"),
  pageSize: z
    .int()
    .min(1)
    .max(1000)
    .default(1000)
    .describe("registered models per search page (MLflow max 1000)"),
  versionPageSize: z
    .int()
    .min(1)
    .max(200_000)
    .default(10_000)
    .describe("model versions per search page (MLflow max 200000)"),
  concurrency: z
    .int()
    .min(1)
    .max(64)
    .default(4)
    .describe("parallel requests for artifact listing and downloads"),
  timeoutMs: z.int().min(100).default(30_000).describe("connect and response-header timeout per request"),
  models: z
    .array(z.string().min(1))
    .min(1)
    .default(["*"])
    .describe("registered-model names to watch; * and ? are wildcards"),
});

export type MlflowConfig = z.infer<typeof MlflowConfig>;
export type MlflowConfigInput = z.input<typeof MlflowConfig>;

/** Config paths holding secrets, for log redaction. */
export const MLFLOW_SECRET_PATHS = ["auth.password", "auth.token"] as const;

/** Glob (* and ?) to an anchored RegExp; everything else is literal. */
export function modelMatcher(patterns: readonly string[]): (name: string) => boolean {
  const res = patterns.map(
    (p) =>
      new RegExp(
        `^${p
          .replace(/[.+^${}()|[\]\\]/g, "\\$&")
          .replace(/\*/g, ".*")
          .replace(/\?/g, ".")}$`,
        "s",
      ),
  );
  return (name) => res.some((re) => re.test(name));
}
