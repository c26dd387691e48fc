// Child process for the --keep test: the demo's lifecycle (src/dev/keep.ts) around real GRC
// simulators instead of the whole demo, which takes minutes. Mode "keep" stays up until a
// signal; mode "hang" is a demo interrupted mid-run. It runs the built code (dist/).
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import process from "node:process";
import { setInterval } from "node:timers";
import { demoLifecycle, tryCommands } from "../../dist/src/dev/keep.js";
import { startSimulators } from "../../dist/src/dev/simulators.js";

const [dir, mlflowUrl, mode] = process.argv.slice(2);
await demoLifecycle({
  keep: mode === "keep",
  envFile: join(dir, ".env"),
  say: (msg) => process.stdout.write(`${msg}\n`),
  run: async (running) => {
    const sims = await startSimulators({}, process.env, `KEEPTEST_${process.pid}`);
    for (const [name, sim] of Object.entries(sims.sims))
      running.add(`${name} simulator`, sim.url, () => sim.close());
    const config = join(dir, "sealgate.yaml");
    await writeFile(
      config,
      `# \${NOT_A_REFERENCE} in a comment\nmlflow:\n  trackingUri: ${mlflowUrl}\n  auth: { type: none }\nstore: { path: store }\n${sims.yaml}`,
    );
    if (mode === "hang") {
      process.stdout.write("running\n");
      await new Promise(() => setInterval(() => {}, 1 << 30));
    }
    const paths = {
      config,
      store: join(dir, "store"),
      ca: "ca.pem",
      intermediates: "int.pem",
      bundle: "b.zip",
    };
    return { config, commands: tryCommands(paths, { model: "m", version: "1", target: "prod" }) };
  },
});
