import { resolve } from "node:path";
import type { Logger } from "pino";
import { z } from "zod";
import { SealgateError } from "../../core/errors.js";
import type { ConnectorModule } from "../../../connectors/sdk/connector.js";
import type { DeliveryTarget } from "../../delivery/engine/engine.js";
import { BUILTIN_FILES, type FileKind, unavailableFiles } from "../../delivery/engine/files.js";
import { loadMapping } from "../../delivery/mapping/compile.js";
import type { AttachmentName } from "../../delivery/mapping/schema.js";
import { DESTINATION_NAME } from "../../delivery/outbox/outbox.js";

/*
 * The `destinations:` section: name -> {kind, mapping, queue, maxAttempts, ...the connector's
 * own settings}. The connector's zod schema checks its part, so a typo in a ServiceNow URL is
 * reported at destinations.<name>.url like any other config error. Defaults stay in the
 * connector (queue limits, its own config) and here (maxAttempts), nowhere else.
 */

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Connectors = Record<string, ConnectorModule<any, any>>;

const COMMON = ["kind", "mapping", "queue", "maxAttempts"] as const;

const Queue = z.strictObject({
  concurrency: z.int().min(1).max(64).optional().describe("deliveries in parallel (default: the vendor's)"),
  perMinute: z
    .int()
    .min(1)
    .optional()
    .describe("remote calls per minute (default: the vendor's documented limit)"),
});

export function destinationSchema(connectors: Connectors) {
  return z
    .looseObject({
      kind: z.string().describe(`connector: ${Object.keys(connectors).join(", ") || "(none registered)"}`),
      mapping: z
        .string()
        .min(1)
        .optional()
        .describe("mapping YAML (default: the connector's default mapping)"),
      queue: Queue.optional(),
      maxAttempts: z.int().min(1).default(10).describe("failed attempts before a delivery is dead"),
    })
    .transform((d, ctx) => {
      const module = connectors[d.kind];
      if (!module) {
        ctx.addIssue({
          code: "custom",
          path: ["kind"],
          message: `unknown destination kind ${JSON.stringify(d.kind)}; use one of: ${Object.keys(connectors).join(", ") || "(no connectors in this build)"}`,
        });
        return z.NEVER;
      }
      const own = Object.fromEntries(
        Object.entries(d).filter(([k]) => !(COMMON as readonly string[]).includes(k)),
      );
      const parsed = module.config.safeParse(own);
      if (!parsed.success) {
        for (const issue of parsed.error.issues) ctx.addIssue({ ...issue, path: issue.path } as never);
        return z.NEVER;
      }
      return {
        kind: d.kind,
        mapping: d.mapping,
        queue: { ...module.queueDefaults, ...d.queue },
        maxAttempts: d.maxAttempts,
        config: parsed.data as unknown,
      };
    });
}

export function destinationsSchema(connectors: Connectors) {
  return z
    .record(
      z.string().regex(DESTINATION_NAME, "letters, digits, '.', '_' or '-'"),
      destinationSchema(connectors),
    )
    .describe("GRC destinations by name");
}

export type DestinationConfig = z.output<ReturnType<typeof destinationSchema>>;

/**
 * Compile every destination's mapping and create its connector. Mapping paths are relative to
 * the config file. Throws the first CONFIG_INVALID, naming the destination.
 */
export async function loadDestinations(
  destinations: Record<string, DestinationConfig>,
  opts: {
    configPath: string;
    connectors: Connectors;
    logger: Logger;
    files?: Partial<Record<AttachmentName, FileKind>>;
  },
): Promise<DeliveryTarget[]> {
  const unavailable = unavailableFiles({ ...BUILTIN_FILES, ...opts.files });
  const targets: DeliveryTarget[] = [];
  for (const [name, d] of Object.entries(destinations)) {
    const module = opts.connectors[d.kind]!;
    const path = d.mapping ? resolve(opts.configPath, "..", d.mapping) : module.defaultMappingPath;
    const mapping = await loadMapping(path, { destination: name, target: module.target, unavailable });
    const destination = createNamed(name, d.kind, () =>
      module.create(name, d.config, mapping.target, { logger: opts.logger.child({ destination: name }) }),
    );
    targets.push({ name, destination, mapping, queue: d.queue, maxAttempts: d.maxAttempts });
  }
  return targets;
}

/**
 * A connector's create(), whose errors (a secret that cannot be read, most often) name the
 * destination and its kind: connectors name only their own config path.
 */
function createNamed<T>(name: string, kind: string, create: () => T): T {
  try {
    return create();
  } catch (err) {
    if (!(err instanceof SealgateError)) throw err;
    throw new SealgateError(err.code, `destination ${name} (${kind}): ${err.message}`, { cause: err });
  }
}

/** Log redaction paths for every connector's secrets, wherever its config is logged. */
export function connectorSecretPaths(connectors: Connectors): string[] {
  const paths = new Set<string>();
  for (const m of Object.values(connectors))
    for (const p of m.secretPaths) {
      paths.add(p);
      paths.add(`*.${p}`);
      paths.add(`destinations.*.${p}`);
    }
  return [...paths];
}
