import type { SimulatorModule } from "../../sdk/simulator.js";
import { ArcherSimulator } from "./server.js";

/** The Archer simulator as `sealgate simulate`, the dev tools and the tests start it. */
export const archerSimulator: SimulatorModule = {
  kind: "archer",
  start: (opts) =>
    new ArcherSimulator({
      ...(opts.port !== undefined ? { port: opts.port } : {}),
      ...(opts.host !== undefined ? { host: opts.host } : {}),
      ...(opts.faults ? { faults: opts.faults } : {}),
      ...(opts.logger ? { logger: opts.logger } : {}),
    }).listen(),
};

export default archerSimulator;
