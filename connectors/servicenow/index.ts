import type { ConnectorModule } from "../sdk/connector.js";
import { sourceFile } from "../sdk/source-file.js";
import { ServiceNowDestination } from "./client.js";
import { SERVICENOW_SECRET_PATHS, ServiceNowConfig, ServiceNowTarget } from "./config.js";

/**
 * ServiceNow: instance rate limits are per-hour rules an admin defines (none by default), and
 * REST requests share a small per-node semaphore pool, so sealgate stays gentle by default:
 * 4 requests in flight and 600 a minute (tune under the destination's queue settings).
 */
export const servicenow: ConnectorModule<ServiceNowConfig, ServiceNowTarget> = {
  kind: "servicenow",
  config: ServiceNowConfig,
  target: ServiceNowTarget,
  secretPaths: SERVICENOW_SECRET_PATHS,
  defaultMappingPath: sourceFile(import.meta.dirname, "mapping.yaml"),
  queueDefaults: { concurrency: 4, perMinute: 600 },
  create: (name, config, target, ctx) =>
    new ServiceNowDestination(name, config, target, { logger: ctx.logger }),
};

export default servicenow;
