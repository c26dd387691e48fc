import { describeConnectorKit } from "../../../test/connector-kit/kit.js";
import { archer } from "../index.js";

// The simulator's instance name is the default mapping's target.instance (SealgateSim).
describeConnectorKit(archer, {
  configFor: (sim, secret) => ({
    url: sim.url,
    auth: { username: sim.credentials.username, password: secret(sim.credentials.password!) },
  }),
});
