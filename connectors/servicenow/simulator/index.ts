import type { SimulatorModule } from "../../sdk/simulator.js";
import { startServiceNowSimulator } from "./server.js";

/** The ServiceNow simulator as `sealgate simulate`, the dev tools and the tests start it. */
export const servicenowSimulator: SimulatorModule = {
  kind: "servicenow",
  start: (opts) => startServiceNowSimulator(opts),
};

export default servicenowSimulator;
