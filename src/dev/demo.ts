/**
 * `npm run demo`: the main job end to end on the embedded default, on a fresh machine.
 * Today that is: provision the MLflow venv, start a real MLflow server, seed it through the
 * official client, reconcile the registry into change events, and list what sealgate sees.
 * Sealing, signing, PDFs, bundles and GRC delivery join this script as they land.
 */
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { MlflowClient } from "../../connectors/mlflow/client.js";
import { MlflowConfig } from "../../connectors/mlflow/config.js";
import { ReconcileState, reconcile } from "../../connectors/mlflow/reconcile.js";
import { listModels, renderModels } from "../cli/commands/mlflow-ls.js";
import { describeError } from "../errors.js";
import { seedMlflow, startMlflowServer } from "./mlflow-server.js";
import { REPO_ROOT } from "./venv.js";

const say = (msg: string) => process.stdout.write(`${msg}\n`);

async function main() {
  const out = join(REPO_ROOT, "demo-out");
  await mkdir(out, { recursive: true });
  say("1/4 starting a real MLflow server (first run installs it into .cache/venv: a few minutes)");
  const server = await startMlflowServer({ log: say });
  try {
    say(`2/4 seeding ${server.url} through the official MLflow Python client`);
    await seedMlflow(server, { bigMb: 16, many: 30 });
    const client = new MlflowClient(MlflowConfig.parse({ trackingUri: server.url, auth: { type: "none" } }));
    say("3/4 reconciling the registry (fingerprints of tags, aliases, status, description, source)");
    const state = new ReconcileState(join(out, "mlflow-state.json"), server.url);
    const first = await reconcile(client, state);
    await first.commit();
    await client.setModelVersionTag("credit-risk", "3", "sealgate.demo", "reviewed");
    const second = await reconcile(client, state);
    await second.commit();
    say(
      `    first pass: ${first.events.length} versions seen; after one tag change: ${second.events.length} event`,
    );
    for (const e of second.events) say(`    ${e.model} v${e.version}: ${JSON.stringify(e.changes)}`);
    say("4/4 what sealgate sees (sealgate mlflow ls):\n");
    say(renderModels(await listModels(client), 5));
    await client.close();
    say(`reconcile state kept in ${join(out, "mlflow-state.json")}`);
  } finally {
    await server.stop();
  }
}

main().catch((err) => {
  process.stderr.write(`demo failed: ${describeError(err)}\n`);
  process.exitCode = 1;
});
