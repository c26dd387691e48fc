import { describeConnectorKit } from "../../../test/connector-kit/kit.js";
import { vanta } from "../index.js";

describeConnectorKit(vanta, {
  configFor: (sim, secret) => ({
    url: sim.url,
    auth: { clientId: sim.credentials.clientId, clientSecret: secret(sim.credentials.clientSecret!) },
  }),
});
