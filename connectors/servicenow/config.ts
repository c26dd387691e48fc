import { z } from "zod";
import { SecretRef } from "../../src/core/secrets.js";

/*
 * A ServiceNow destination: the instance, how to authenticate, TLS and timeouts (config), and
 * where records go (the mapping file's `target:`). Defaults live here and nowhere else.
 */

const LOOPBACK = /^http:\/\/(localhost|127\.0\.0\.1|\[::1\])(:\d+)?(\/|$)/;

const InstanceUrl = z
  .string()
  .refine((s) => /^https:\/\/[^/]+/.test(s) || LOOPBACK.test(s), {
    message:
      "must be the instance's https:// URL, e.g. https://acme.service-now.com (plain http only on loopback, for the simulator)",
  })
  .refine((s) => !/^https?:\/\/[^/]*@/.test(s), {
    message: "must not hold credentials; put them under auth with ${ENV} or file: references",
  });

const Name = z.string().min(1);

const Auth = z.discriminatedUnion("type", [
  z.strictObject({ type: z.literal("basic"), username: Name, password: SecretRef }),
  z
    .strictObject({
      type: z.literal("oauth-password"),
      clientId: Name,
      clientSecret: SecretRef,
      username: Name,
      password: SecretRef,
    })
    .describe("OAuth 2 password grant; the refresh token is used until it fails"),
  z
    .strictObject({ type: z.literal("oauth-client-credentials"), clientId: Name, clientSecret: SecretRef })
    .describe(
      "needs glide.oauth.inbound.client.credential.grant_type.enabled=true on the instance (off by default)",
    ),
]);
export type ServiceNowAuth = z.infer<typeof Auth>;

export const ServiceNowConfig = z.strictObject({
  url: InstanceUrl.describe("instance base URL"),
  auth: Auth,
  ca: z.string().optional().describe("PEM file of CAs trusted for https (replaces the system roots)"),
  timeoutMs: z.int().min(100).default(30_000).describe("connect and response-header timeout per request"),
  bodyTimeoutMs: z.int().min(100).default(120_000).describe("longest silence while a body streams"),
  retries: z.int().min(0).max(10).default(4).describe("retries on 408/429/5xx and connection errors"),
  tokenRefreshSkewSeconds: z
    .int()
    .min(0)
    .default(60)
    .describe("refresh an OAuth access token this long before it expires (capped at a fifth of its life)"),
  pageSize: z.int().min(1).max(10_000).default(100).describe("rows per Table/Attachment API page"),
});
export type ServiceNowConfig = z.infer<typeof ServiceNowConfig>;
export type ServiceNowConfigInput = z.input<typeof ServiceNowConfig>;

const Element = z.string().regex(/^[a-z][a-z0-9_]*$/, {
  message: "must be a ServiceNow column name (lowercase letters, digits, underscores)",
});

/** The mapping file's `target:` section. */
export const ServiceNowTarget = z.strictObject({
  table: Element.default("sn_grc_ai_gov_ai_system_task").describe(
    "table records are created in; GRC tables differ per instance (sn_grc_issue, sn_compliance_control, ...)",
  ),
  correlationField: Element.default("correlation_id").describe(
    "column holding the record digest; correlation_id exists on task-derived tables, otherwise add a u_ column",
  ),
  inputDisplayValue: z
    .boolean()
    .default(false)
    .describe("sysparm_input_display_value: mapped values are display values (choice labels, names)"),
});
export type ServiceNowTarget = z.infer<typeof ServiceNowTarget>;
export type ServiceNowTargetInput = z.input<typeof ServiceNowTarget>;

/** Config paths holding secrets, for log redaction. */
export const SERVICENOW_SECRET_PATHS = ["auth.password", "auth.clientSecret"];
