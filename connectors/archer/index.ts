import type { ConnectorModule } from "../sdk/connector.js";
import { sourceFile } from "../sdk/source-file.js";
import { ArcherDestination } from "./client.js";
import { ARCHER_QUEUE_DEFAULTS, ARCHER_SECRET_PATHS, ArcherConfig, ArcherTarget } from "./config.js";

/** The Archer destination as the config registry and the delivery engine see it. */
export const archer: ConnectorModule<ArcherConfig, ArcherTarget> = {
  kind: "archer",
  config: ArcherConfig,
  target: ArcherTarget,
  secretPaths: ARCHER_SECRET_PATHS,
  defaultMappingPath: sourceFile(import.meta.dirname, "mapping.yaml"),
  queueDefaults: ARCHER_QUEUE_DEFAULTS,
  create: (name, config, target, ctx) => new ArcherDestination(name, config, target, { logger: ctx.logger }),
};

export default archer;
