import type { SimulatorModule } from "../../sdk/simulator.js";
import { startVantaSimulator } from "./server.js";

/** The Vanta simulator as `sealgate simulate`, the dev tools and the tests start it. */
export const vantaSimulator: SimulatorModule = {
  kind: "vanta",
  start: (opts) => startVantaSimulator(opts),
};

export default vantaSimulator;
