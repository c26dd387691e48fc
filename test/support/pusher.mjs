// Child process for the delivery crash test: pushes a store's sealed records to a
// file-backed destination pass after pass until all are delivered, then prints "done".
// The parent SIGKILLs it at random moments. Runs the built engine (dist/): `npm run build` first.
import process from "node:process";
import { pushOutbox } from "../../dist/src/delivery/engine/engine.js";
import { readStore } from "../../dist/src/app/store.js";
import { createLogger } from "../../dist/src/core/log.js";
import { compileMapping } from "../../dist/src/delivery/mapping/compile.js";
import { loadSigner } from "../../dist/src/crypto/sign/load.js";
import { FileDestination } from "./file-destination.mjs";
import { TEST_MAPPING, TEST_TARGET } from "./test-mapping.mjs";

const [storeRoot, remoteDir, key, cert] = process.argv.slice(2);
const signer = await loadSigner({ type: "pem", key, cert }, "crash-test", {});
const mapping = compileMapping(TEST_MAPPING, "test mapping", { destination: "files", target: TEST_TARGET });
const logger = createLogger({ level: "silent" });
process.stdout.write("ready\n");
for (let pass = 0; pass < 50; pass++) {
  const destination = new FileDestination("files", remoteDir, {
    failBefore: 0.05,
    failAfter: 0.05,
    delayMs: 30,
  });
  const result = await pushOutbox({
    storeRoot,
    ...readStore(storeRoot),
    targets: [
      {
        name: "files",
        destination,
        mapping,
        queue: { concurrency: 4, perMinute: 100_000 },
        maxAttempts: 1000,
      },
    ],
    signer,
    logger,
    ignoreBackoff: true,
    lockWaitMs: 10_000,
  });
  const s = result.files.states;
  process.stdout.write(`pass ${pass} ${JSON.stringify(s)}\n`);
  if (s.delivered === Object.values(s).reduce((a, b) => a + b, 0)) break;
}
process.stdout.write("done\n");
