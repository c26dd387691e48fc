import type { ConnectorModule } from "../sdk/connector.js";
import { sourceFile } from "../sdk/source-file.js";
import {
  ReferenceConfig,
  ReferenceDestination,
  type ReferenceTarget,
  ReferenceTarget as Target,
} from "./client.js";

/*
 * The reference connector: the smallest complete ConnectorModule, against the reference
 * simulator. The kit runs on it to test itself; a new destination can start as a copy. It is
 * deliberately not in connectors/index.ts: no one delivers real evidence to it.
 */
const reference: ConnectorModule<ReferenceConfig, ReferenceTarget> = {
  kind: "reference",
  config: ReferenceConfig,
  target: Target,
  secretPaths: ["auth.clientSecret"],
  defaultMappingPath: sourceFile(import.meta.dirname, "mapping.yaml"),
  queueDefaults: { concurrency: 4, perMinute: 600 },
  create: (name, config, _target, { logger }) => new ReferenceDestination(name, config, logger),
};

export default reference;
