import type { SimulatorModule } from "../../sdk/simulator.js";
import { startReferenceSimulator } from "./server.js";

/** The reference simulator, for the kit's own tests; like its connector, not registered. */
export const referenceSimulator: SimulatorModule = {
  kind: "reference",
  start: (opts) => startReferenceSimulator(opts),
};

export default referenceSimulator;
