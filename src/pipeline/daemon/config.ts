import { validate } from "node-cron";
import { z } from "zod";
import { SecretRef } from "../../core/secrets.js";

/*
 * The `daemon:` section of sealgate.yaml. Every default is written here once (zod prefault
 * runs it through the same schema), and cron expressions are checked when config loads, so
 * a typo fails at start naming its path instead of silently never firing.
 */

const Cron = z
  .string()
  .refine((s) => validate(s), {
    message:
      "not a valid cron expression; write 5 fields (minute hour day month weekday) or 6 with seconds first, e.g. '*/5 * * * *'",
  })
  .describe("cron expression (node-cron: 5 fields, or 6 with seconds first)");

const job = (schedule: string, what: string) =>
  z
    .strictObject({
      schedule: Cron.default(schedule),
      jitterSeconds: z
        .int()
        .min(0)
        .max(3600)
        .default(0)
        .describe("start each run after a random delay of up to this many seconds"),
    })
    .prefault({})
    .describe(what);

export const DaemonConfig = z
  .strictObject({
    listen: z
      .strictObject({
        host: z.string().min(1).default("127.0.0.1").describe("bind address (loopback by default)"),
        port: z.int().min(0).max(65535).default(9464).describe("TCP port (0 = any free port)"),
      })
      .prefault({})
      .describe("where /healthz, /readyz, /metrics, /ledger/ and /hooks/mlflow are served"),
    http: z
      .strictObject({
        accessToken: SecretRef.optional().describe(
          "bearer token that /metrics and /ledger/* require (${ENV_VAR} or file:/path); /healthz, /readyz and the webhook stay open",
        ),
        tls: z
          .strictObject({
            cert: z.string().min(1).describe("PEM certificate chain file (relative to this config file)"),
            key: z
              .string()
              .min(1)
              .describe("PEM private key file, unencrypted (relative to this config file)"),
          })
          .optional()
          .describe("serve HTTPS with this certificate and key instead of plain HTTP"),
      })
      .prefault({})
      .describe("TLS and access control for the daemon's HTTP server"),
    allowInsecureBind: z
      .boolean()
      .default(false)
      .describe(
        "start on a non-loopback listen.host without http.tls and http.accessToken (anyone who can reach the port then reads /metrics and the ledger, in clear text)",
      ),
    jobs: z
      .strictObject({
        sync: job("*/5 * * * *", "reconcile MLflow, seal completed review cycles, sign a checkpoint"),
        push: job("* * * * *", "deliver the outbox to every destination"),
        verify: job("0 * * * *", "verify the ledger, checkpoints and every stored object"),
        checkpoint: job(
          "*/15 * * * *",
          "sign a fresh checkpoint when the ledger grew since the last one (no destination publishes checkpoints yet)",
        ),
      })
      .prefault({}),
    webhook: z
      .strictObject({
        secret: SecretRef.describe("the MLflow webhook's signing secret: ${ENV_VAR} or file:/path"),
        path: z
          .string()
          .regex(/^\/[A-Za-z0-9/_.-]*$/, "an absolute URL path such as /hooks/mlflow")
          .default("/hooks/mlflow"),
        toleranceSeconds: z
          .int()
          .min(1)
          .default(300)
          .describe("deliveries whose timestamp is further from now than this are refused"),
      })
      .optional()
      .describe("MLflow webhook receiver; omit to rely on the sync job alone"),
    shutdownGraceSeconds: z
      .int()
      .min(0)
      .default(60)
      .describe("on SIGTERM/SIGINT, how long the running step may take to finish"),
  })
  .describe("`sealgate daemon`: scheduled jobs, health, metrics and webhooks");

export type DaemonConfig = z.infer<typeof DaemonConfig>;
export type JobName = keyof DaemonConfig["jobs"];
