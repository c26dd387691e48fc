/*
 * The connector kit's crash child: pushes a store's sealed records to one destination, pass
 * after pass, until all are delivered, then prints "done". The kit SIGKILLs it at random
 * points. It runs the built runtime (dist/: `npm run build` first) and finds the connector by
 * kind in the registry (connectors/index.ts), or loads the module a spec names (a connector
 * not registered yet). Logs go to stderr, JSON, at debug, so the kit can scan them for secrets.
 *
 *   node test/connector-kit/push-child.mjs <spec.json>   (spec: PushChildSpec, push-child.d.mts)
 */
import { readFile } from "node:fs/promises";
import process from "node:process";
import { pathToFileURL } from "node:url";
import { CONNECTORS } from "../../dist/connectors/index.js";
import { destinationSchema } from "../../dist/src/app/config/destinations.js";
import { pushOutbox } from "../../dist/src/delivery/engine/engine.js";
import { readStore } from "../../dist/src/app/store.js";
import { BUILTIN_FILES, unavailableFiles } from "../../dist/src/delivery/engine/files.js";
import { createLogger } from "../../dist/src/core/log.js";
import { loadMapping } from "../../dist/src/delivery/mapping/compile.js";
import { loadSigner } from "../../dist/src/crypto/sign/load.js";

/** @type {import("./push-child.d.mts").PushChildSpec} (written by kit-crash.ts, typed there) */
const spec = JSON.parse(await readFile(process.argv[2], "utf8"));
const module = spec.modulePath
  ? (await import(pathToFileURL(spec.modulePath).href)).default
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
      ...readStore(spec.storeRoot),
      targets: [{ name: spec.name, destination, mapping, queue: spec.queue, maxAttempts: 1000 }],
      signer,
      logger,
      ignoreBackoff: true,
      lockWaitMs: 30_000,
    });
    const s = result[spec.name].states;
    process.stdout.write(`pass ${pass} ${JSON.stringify(s)}\n`);
    if (s.delivered === Object.values(s).reduce((a, b) => a + b, 0)) break;
  } finally {
    await destination.close();
  }
}
process.stdout.write("done\n");
