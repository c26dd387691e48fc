import type { Logger } from "pino";
import type { z } from "zod";
import type { Destination } from "../../src/delivery/destination/destination.js";

/*
 * What one destination folder (connectors/<kind>/index.ts) exports. The config registry,
 * the delivery engine and the connector test kit only ever see this, so adding a destination
 * means copying a folder and adding one line to connectors/index.ts (and its simulator's
 * SimulatorModule, in simulator/index.ts, one line to connectors/simulators.ts).
 */
export interface ConnectorModule<Config = unknown, Target = unknown> {
  kind: string;
  /** This destination's section of sealgate.yaml (url, auth, TLS CA); defaults live here only. */
  config: z.ZodType<Config>;
  /** The mapping file's `target:` section (table, document settings, Archer app and level). */
  target: z.ZodType<Target>;
  /** Dotted paths inside `config` that hold secrets, fed to log redaction. */
  secretPaths: string[];
  /** Absolute path of the default mapping YAML shipped in the folder. */
  defaultMappingPath: string;
  /** The vendor's documented limits, used as queue defaults. */
  queueDefaults: { concurrency: number; perMinute: number };
  create(name: string, config: Config, target: Target, ctx: { logger: Logger }): Destination;
}
