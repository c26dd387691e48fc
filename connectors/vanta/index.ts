import type { ConnectorModule } from "../sdk/connector.js";
import { sourceFile } from "../sdk/source-file.js";
import { VANTA_SECRET_PATHS, VantaConfig, VantaTarget } from "./config.js";
import { VantaDestination } from "./client.js";

/** The Vanta destination: documents with uploads, de-duplicated by the digest in the title. */
export const vanta: ConnectorModule<VantaConfig, VantaTarget> = {
  kind: "vanta",
  config: VantaConfig,
  target: VantaTarget,
  secretPaths: VANTA_SECRET_PATHS,
  defaultMappingPath: sourceFile(import.meta.dirname, "mapping.yaml"),
  // Vanta documents 100 requests/minute per application; four workers stay well inside it.
  queueDefaults: { concurrency: 4, perMinute: 100 },
  create: (name, config, target, ctx) => new VantaDestination(name, config, target, ctx),
};

export default vanta;
