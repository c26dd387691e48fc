import { archer } from "./archer/index.js";
import type { ConnectorModule } from "./sdk/connector.js";
import { servicenow } from "./servicenow/index.js";
import { vanta } from "./vanta/index.js";

/*
 * Every GRC destination sealgate can deliver to, by `kind`. Config validation, the delivery
 * engine, log redaction and the connector test kit's crash child look connectors up here and
 * nowhere else: adding a destination is one import and one line (and its simulator, one line
 * in connectors/simulators.ts).
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export const CONNECTORS: Record<string, ConnectorModule<any, any>> = { servicenow, vanta, archer };
