// Child process for the start-up interrupt test: the demo's lifecycle (src/dev/keep.ts) around
// a real MLflow server, registered for cleanup the way the demo does. It prints the server's
// pid as soon as it is spawned, and "healthy" if it gets that far. It runs the built code (dist/).
import process from "node:process";
import { demoLifecycle } from "../../dist/src/dev/keep.js";
import { startMlflowServer } from "../../dist/src/dev/mlflow-server.js";

const [envFile] = process.argv.slice(2);
await demoLifecycle({
  keep: false,
  envFile,
  say: (msg) => process.stdout.write(`${msg}\n`),
  run: async (running) => {
    await startMlflowServer({
      spawned: (s) => {
        running.add("MLflow", s.url, () => s.stop());
        process.stdout.write(`spawned ${s.pid}\n`);
      },
    });
    process.stdout.write("healthy\n");
    return { config: "", commands: [] };
  },
});
