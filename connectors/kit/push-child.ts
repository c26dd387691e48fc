/*
 * The connector kit's crash child: pushes a store's sealed records to one destination, pass
 * after pass, until all are delivered, then prints "done". The kit SIGKILLs it at random
 * points. It finds the connector by kind in the registry (connectors/index.ts), or loads the
 * module a spec names (a connector not registered yet). Logs go to stderr, JSON, at debug, so
 * the kit can scan them for secrets.
 *
 *   node dist/connectors/kit/push-child.js <spec.json>
 */
import { readFile } from "node:fs/promises";
import process from "node:process";
import { pathToFileURL } from "node:url";
import { z } from "zod";
import { loadMapping } from "../../src/mapping/compile.js";
import { pushOutbox } from "../../src/deliver/engine.js";
import { unavailableFiles, BUILTIN_FILES } from "../../src/deliver/files.js";
import { destinationSchema } from "../../src/config/destinations.js";
import { createLogger } from "../../src/log.js";
import { loadSigner } from "../../src/sign/load.js";
import { CONNECTORS } from "../index.js";
import type { ConnectorModule } from "./connector.js";

export const PushChildSpec = z.strictObject({
  kind: z.string(),
  /** Absolute path of a built module whose `default` export is the ConnectorModule. */
  modulePath: z.string().optional(),
  name: z.string(),
  /** The destination's config section (secrets as ${ENV} references; the env is inherited). */
  config: z.record(z.string(), z.unknown()),
  storeRoot: z.string(),
  key: z.string(),
  cert: z.string(),
  queue: z.strictObject({ concurrency: z.int().min(1), perMinute: z.int().min(1) }),
  secretPaths: z.array(z.string()),
});
export type PushChildSpec = z.infer<typeof PushChildSpec>;

async function main() {
  const spec = PushChildSpec.parse(JSON.parse(await readFile(process.argv[2]!, "utf8")));
  const module = spec.modulePath
    ? ((await import(pathToFileURL(spec.modulePath).href)) as { default: ConnectorModule }).default
    : CONNECTORS[spec.kind];
  if (!module) throw new Error(`no connector of kind ${spec.kind} in connectors/index.ts`);
  const logger = createLogger({ level: "debug", secretPaths: spec.secretPaths });
  const d = destinationSchema({ [spec.kind]: module }).parse({ kind: spec.kind, ...spec.config });
  const mapping = await loadMapping(module.defaultMappingPath, {
    destination: spec.name,
    target: module.target,
    unavailable: unavailableFiles(BUILTIN_FILES),
  });
  const signer = await loadSigner({ type: "pem", key: spec.key, cert: spec.cert }, "kit", process.env);
  process.stdout.write("ready\n");
  for (let pass = 0; pass < 100; pass++) {
    const destination = module.create(spec.name, d.config, mapping.target, { logger });
    try {
      const result = await pushOutbox({
        storeRoot: spec.storeRoot,
        targets: [{ name: spec.name, destination, mapping, queue: spec.queue, maxAttempts: 1000 }],
        signer,
        logger,
        ignoreBackoff: true,
        lockWaitMs: 30_000,
      });
      const s = result[spec.name]!.states;
      process.stdout.write(`pass ${pass} ${JSON.stringify(s)}\n`);
      if (s.delivered === Object.values(s).reduce((a, b) => a + b, 0)) break;
    } finally {
      await destination.close();
    }
  }
  process.stdout.write("done\n");
}

await main();
