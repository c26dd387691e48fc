import type { Logger } from "pino";
import { CONNECTORS } from "../../connectors/index.js";
import { connectorSecretPaths } from "./config/destinations.js";
import { createLogger, type LoggerOptions } from "../core/log.js";

/**
 * The logger an entry point hands down: createLogger plus every secret path the registered
 * connectors declare in their config schemas. It lives at the top because only here is the
 * set of connectors known; lower layers receive the Logger and never build one.
 */
export function createAppLogger(opts: LoggerOptions = {}): Logger {
  return createLogger({
    ...opts,
    secretPaths: [...connectorSecretPaths(CONNECTORS), ...(opts.secretPaths ?? [])],
  });
}
