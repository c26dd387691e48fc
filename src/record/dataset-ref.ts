import { z } from "zod";

/*
 * How a sealed record names its evaluation dataset: by content digest, or with a plain
 * statement that it is not content-addressed and why. The format belongs to the record; the
 * resolver that fills it (src/source/digest/dataset.ts) sits above, beside the registry it reads.
 */

export const DatasetRef = z.discriminatedUnion("contentAddressed", [
  z.strictObject({
    contentAddressed: z.literal(true),
    name: z.string(),
    context: z.string(),
    digest: z.string().regex(/^sha256:[0-9a-f]{64}$/),
    size: z.int().nonnegative(),
    resolvedFrom: z.enum(["mlflow-artifact", "file", "url"]),
    location: z.string(),
    mlflowDigest: z.string(),
    mlflowSource: z.string(),
  }),
  z.strictObject({
    contentAddressed: z.literal(false),
    name: z.string(),
    context: z.string(),
    reason: z.string(),
    mlflowDigest: z.string(),
    mlflowSource: z.string(),
  }),
]);
export type DatasetRef = z.infer<typeof DatasetRef>;
