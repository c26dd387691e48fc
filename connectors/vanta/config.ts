import { z } from "zod";
import { SecretRef } from "../../src/core/secrets.js";

/*
 * The Vanta destination's config (sealgate.yaml) and its mapping's `target:` section.
 * Defaults live here and nowhere else. Facts: ../shared/reference/grc-apis.md, "Vanta".
 */

const HttpUrl = z
  .string()
  .refine((s) => /^https?:\/\/[^/]+\/?$/.test(s), {
    message: "must be the API origin, e.g. https://api.vanta.com (Gov: https://api.vanta-gov.com)",
  })
  .refine((s) => !/^https?:\/\/[^/]*@/.test(s), {
    message: "must not hold credentials; put them under auth with ${ENV} or file: references",
  });

export const VantaConfig = z.strictObject({
  url: HttpUrl.default("https://api.vanta.com").describe("API origin; /oauth/token and /v1 live under it"),
  auth: z.strictObject({
    clientId: z.string().min(1).describe("OAuth application client id"),
    clientSecret: SecretRef.describe("OAuth client secret: ${ENV_VAR} or file:/path"),
  }),
  ca: z.string().optional().describe("PEM file of CAs trusted for https (replaces the system roots)"),
  timeoutMs: z.int().min(100).default(30_000).describe("connect and response-header timeout per request"),
  bodyTimeoutMs: z.int().min(100).default(120_000).describe("longest silence while a body streams"),
  retries: z.int().min(0).max(20).default(6).describe("retries on 408/429/5xx/connection errors"),
  pageSize: z
    .int()
    .min(1)
    .max(100)
    .default(100)
    .describe("documents and uploads per list page (Vanta: 1-100)"),
  soleWriter: z
    .boolean()
    .default(false)
    .describe(
      "trust a lookup miss after this process's first full listing instead of re-listing every document; only when no other process writes with this Vanta application (the single-token rule already forbids sharing it)",
    ),
  verifyUploads: z
    .boolean()
    .default(false)
    .describe("download each existing upload to report its size and SHA-256 (Vanta lists names only)"),
  tokenRequestsPerMinute: z
    .int()
    .min(1)
    .default(5)
    .describe("token mints allowed per minute (Vanta documents 5); the client waits instead of asking"),
  retryAfterFallbackMs: z
    .int()
    .min(0)
    .default(61_000)
    .describe("wait after a 429 that carries no Retry-After (Vanta does not document one)"),
});
export type VantaConfig = z.infer<typeof VantaConfig>;
export type VantaConfigInput = z.input<typeof VantaConfig>;

/** Config paths holding secrets, for log redaction. */
export const VANTA_SECRET_PATHS = ["auth.clientSecret"];

export const TIME_SENSITIVITY = ["MOST_RECENT", "DURING_AUDIT_WINDOW"] as const;

/** ISO 8601 duration in days, weeks, months or years as Vanta's cadence fields use (P0D, P1Y). */
export const IsoDuration = z.string().regex(/^P(\d+[YMWD])+$/, {
  message: "must be an ISO 8601 duration such as P0D (never), P3M or P1Y",
});

/** The mapping's `target:` section: settings of every document sealgate creates. */
export const VantaTarget = z.strictObject({
  titlePrefix: z
    .string()
    .max(100)
    .default("sealgate")
    .describe('put before the mapped title ("" for none); the record digest is always appended'),
  description: z.string().min(1).default("Sealed model promotion record (sealgate)"),
  timeSensitivity: z.enum(TIME_SENSITIVITY).default("MOST_RECENT"),
  cadence: IsoDuration.default("P0D"),
  reminderWindow: IsoDuration.default("P0D"),
  isSensitive: z.boolean().default(false),
  submit: z.boolean().default(true).describe("submit the document once every file is uploaded"),
  scope: z
    .string()
    .regex(/^\S+( \S+)*$/, { message: "must be space-separated OAuth scopes" })
    .default("vanta-api.all:read vanta-api.all:write vanta-api.documents:upload")
    .describe("OAuth scopes requested; uploads need vanta-api.documents:upload"),
});
export type VantaTarget = z.infer<typeof VantaTarget>;
