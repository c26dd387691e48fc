import { archerSimulator } from "./archer/simulator/index.js";
import type { SimulatorModule } from "./sdk/simulator.js";
import { servicenowSimulator } from "./servicenow/simulator/index.js";
import { vantaSimulator } from "./vanta/simulator/index.js";

/*
 * Every destination's simulator, by `kind` (the same kinds as connectors/index.ts). Only
 * `sealgate simulate` (loaded when the command runs), the dev tools and the tests import this;
 * the runtime registry never reaches a simulator.
 */
export const SIMULATORS: Record<string, SimulatorModule> = {
  servicenow: servicenowSimulator,
  vanta: vantaSimulator,
  archer: archerSimulator,
};
