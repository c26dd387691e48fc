import { z } from "zod";
import { SecretRef } from "../../src/core/secrets.js";

/*
 * The Archer destination's config section and its mapping's `target:` section. Defaults live
 * here and nowhere else.
 */

const HttpUrl = z
  .string()
  .refine((s) => /^https?:\/\/[^/]+/.test(s), {
    message:
      "must be the http:// or https:// base URL of the Archer instance, e.g. https://grc.example.com/Archer",
  })
  .refine((s) => !/^https?:\/\/[^/]*@/.test(s), {
    message: "must not hold credentials; put them under auth with ${ENV} or file: references",
  });

export const ArcherConfig = z.strictObject({
  url: HttpUrl.describe("base URL of the Archer web application (the part before /platformapi/)"),
  auth: z.strictObject({
    username: z.string().min(1),
    userDomain: z.string().default("").describe("Archer user domain; empty for local accounts"),
    password: SecretRef,
  }),
  ca: z.string().optional().describe("PEM file of CAs trusted for https (replaces the system roots)"),
  timeoutMs: z.int().min(100).default(30_000).describe("connect and response-header timeout per request"),
  bodyTimeoutMs: z.int().min(100).default(120_000).describe("longest silence while a body streams"),
  pageSize: z
    .int()
    .min(1)
    .max(1000)
    .default(250)
    .describe("OData $top for metadata listings; the server may cap it lower, paging copes"),
});
export type ArcherConfig = z.infer<typeof ArcherConfig>;
export type ArcherConfigInput = z.input<typeof ArcherConfig>;

/** Config paths holding secrets, for log redaction. */
export const ARCHER_SECRET_PATHS = ["auth.password"];

export const ArcherTarget = z.strictObject({
  instance: z.string().min(1).describe("Archer instance name used at login (InstanceName)"),
  application: z.string().min(1).describe("application name, e.g. Model Promotions"),
  level: z
    .union([z.string().min(1), z.int().positive()])
    .optional()
    .describe("level name, alias or id; may be omitted when the application has one level"),
  correlationField: z
    .string()
    .min(1)
    .describe("name of a Text field that holds the record digest (used to find records again)"),
  attachmentField: z.string().min(1).describe("name of the Attachment field evidence files go into"),
  apiPrefix: z
    .enum(["platformapi", "api"])
    .default("platformapi")
    .describe("REST path prefix: platformapi since Archer 6.5, api before"),
});
export type ArcherTarget = z.infer<typeof ArcherTarget>;
export type ArcherTargetInput = z.input<typeof ArcherTarget>;

/** Archer documents no rate limit (UNCONFIRMED): modest defaults an admin can raise. */
export const ARCHER_QUEUE_DEFAULTS = { concurrency: 4, perMinute: 600 };
