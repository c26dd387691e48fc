import pino, { type Logger } from "pino";
import { CONNECTORS } from "../connectors/index.js";
import { connectorSecretPaths } from "./config/destinations.js";

/**
 * pino JSON logs on stderr (stdout is for command output). Secret-bearing paths are declared
 * by each connector's config schema and censored here, in one place.
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
    },
    opts.destination ?? pino.destination(2),
  );
}
