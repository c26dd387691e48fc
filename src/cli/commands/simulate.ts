import type { Command } from "commander";
import { CONNECTORS } from "../../../connectors/index.js";
import { SealgateError } from "../../core/errors.js";
import { createAppLogger } from "../../app/logger.js";
import type { CliIO } from "../io.js";

interface Options {
  port: string;
  host: string;
  json?: boolean;
}

/** Resolves on the first SIGINT or SIGTERM. */
const untilSignal = () =>
  new Promise<void>((resolve) => {
    process.once("SIGINT", () => resolve());
    process.once("SIGTERM", () => resolve());
  });

export function registerSimulate(program: Command, io: CliIO): void {
  program
    .command("simulate")
    .description("run a GRC destination's simulator locally, to dry-run a mapping before production")
    .argument("<kind>", `destination kind: ${Object.keys(CONNECTORS).join(", ")}`)
    .option("--port <n>", "port to listen on (0 = any free port)", "0")
    .option("--host <addr>", "address to bind", "127.0.0.1")
    .option("--json", "print url and credentials as JSON")
    .addHelpText(
      "after",
      `
The simulator implements the vendor's documented endpoints, auth, errors, paging and rate
limits. It prints its URL and throwaway credentials; stop it with Ctrl-C.

Example:
  $ sealgate simulate servicenow --port 8443`,
    )
    .action(async (kind: string, opts: Options) => {
      // Loaded only now: no other command needs a simulator's code.
      const { SIMULATORS } = await import("../../../connectors/simulators.js");
      const simulator = SIMULATORS[kind];
      if (!simulator)
        throw new SealgateError(
          "USAGE",
          `unknown destination kind ${kind}: use ${Object.keys(CONNECTORS).join(", ")}`,
        );
      const port = Number(opts.port);
      if (!Number.isInteger(port) || port < 0 || port > 65535)
        throw new SealgateError("USAGE", `--port ${opts.port}: use a port number 0-65535`);
      const sim = await simulator.start({
        port,
        host: opts.host,
        logger: createAppLogger({ level: "warn" }),
      });
      const info = { kind, url: sim.url, credentials: sim.credentials };
      io.out(
        opts.json
          ? `${JSON.stringify(info)}\n`
          : `${kind} simulator at ${sim.url}\nthrowaway credentials: ${JSON.stringify(sim.credentials)}\nCtrl-C to stop\n`,
      );
      await untilSignal();
      await sim.close();
    });
}
