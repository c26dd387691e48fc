import type { FaultKnobs, SimulatorHandle } from "../../connectors/sdk/simulator.js";
import { SIMULATORS } from "../../connectors/simulators.js";
import { createLogger } from "../core/log.js";

/*
 * The three GRC simulators on loopback, and the `destinations:` block that points sealgate at
 * them. Credentials reach the config only as ${ENV} references (set in this process's env), as
 * they would in production. Used by the demo, the daemon tests and the reliability suite.
 */

export interface Simulators {
  sims: { servicenow: SimulatorHandle; vanta: SimulatorHandle; archer: SimulatorHandle };
  /** A `destinations:` YAML block for sealgate.yaml. */
  yaml: string;
  /** Every secret the simulators hold, for log scans. */
  secrets(): string[];
  close(): Promise<void>;
}

/**
 * `tag` ends each ${ENV} name (SEALGATE_SIM_VANTA_SECRET_<tag>); by default unique per call, so
 * two sets of simulators in one process never share a variable.
 */
export async function startSimulators(
  faults: Partial<FaultKnobs> = {},
  env = process.env,
  tag = `${process.pid}_${Math.random().toString(36).slice(2, 8)}`.toUpperCase(),
): Promise<Simulators> {
  const logger = createLogger({ level: "silent" });
  const [servicenow, vanta, archer] = await Promise.all(
    (["servicenow", "vanta", "archer"] as const).map((k) => SIMULATORS[k]!.start({ logger, faults })),
  );
  const sims = { servicenow: servicenow!, vanta: vanta!, archer: archer! };
  const ref = (name: string, value: string | undefined) => {
    env[`SEALGATE_SIM_${name}_${tag}`] = value ?? "";
    return `"\${SEALGATE_SIM_${name}_${tag}}"`;
  };
  const sn = sims.servicenow.credentials;
  const yaml = `destinations:
  servicenow:
    kind: servicenow
    url: ${sims.servicenow.url}
    auth: { type: oauth-password, clientId: ${sn.clientId}, clientSecret: ${ref("SNOW_SECRET", sn.clientSecret)}, username: ${sn.username}, password: ${ref("SNOW_PASSWORD", sn.password)} }
  vanta:
    kind: vanta
    url: ${sims.vanta.url}
    auth: { clientId: ${sims.vanta.credentials.clientId}, clientSecret: ${ref("VANTA_SECRET", sims.vanta.credentials.clientSecret)} }
  archer:
    kind: archer
    url: ${sims.archer.url}
    auth: { username: ${sims.archer.credentials.username}, password: ${ref("ARCHER_PASSWORD", sims.archer.credentials.password)} }
`;
  return {
    sims,
    yaml,
    secrets: () => Object.values(sims).flatMap((s) => s.secrets()),
    close: async () => void (await Promise.allSettled(Object.values(sims).map((s) => s.close()))),
  };
}
