import pino, { type Logger } from "pino";
import { registerSecret, scrub } from "./util/secret-values.js";

/** Field paths no log line ever shows, whatever the caller adds. */
const ALWAYS_REDACTED = ["*.authorization", "headers.authorization", "*.password", "*.token", "*.secret"];

export interface LoggerOptions {
  level?: string;
  /** Field paths to censor: the entry point passes every secret-bearing config path it knows (connectors' included). */
  secretPaths?: readonly string[];
  /** Secret values to scrub from every line, wherever they appear, on top of those already registered. */
  secretValues?: readonly string[];
  destination?: pino.DestinationStream;
}

/**
 * pino JSON logs on stderr (stdout is for command output). Secret-bearing paths come from the
 * caller (src/app/logger.ts adds the connectors'), so this module imports nothing above util;
 * every serialized line is also scrubbed of secret values, wherever in it they appear (an error
 * a remote echoed).
 */
export function createLogger(opts: LoggerOptions = {}): Logger {
  for (const value of opts.secretValues ?? []) registerSecret(value);
  const paths = new Set([...ALWAYS_REDACTED, ...(opts.secretPaths ?? [])]);
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
