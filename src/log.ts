import pino, { type Logger } from "pino";
import { CONNECTORS } from "../connectors/index.js";
import { connectorSecretPaths } from "./config/destinations.js";
import { scrub } from "./util/secret-values.js";

/**
 * pino JSON logs on stderr (stdout is for command output). Secret-bearing paths are declared
 * by each connector's config schema and censored here, in one place; every serialized line is
 * also scrubbed of secret values, wherever in it they appear (an error a remote echoed).
 */
export function createLogger(
  opts: { level?: string; secretPaths?: readonly string[]; destination?: pino.DestinationStream } = {},
): Logger {
  const paths = new Set([
    "*.authorization",
    "headers.authorization",
    "*.password",
    "*.token",
    "*.secret",
    ...connectorSecretPaths(CONNECTORS),
    ...(opts.secretPaths ?? []),
  ]);
  return pino(
    {
      level: opts.level ?? process.env.SEALGATE_LOG_LEVEL ?? "info",
      base: { name: "sealgate" },
      redact: { paths: [...paths], censor: "[REDACTED]" },
      hooks: { streamWrite: scrub },
    },
    opts.destination ?? pino.destination(2),
  );
}
