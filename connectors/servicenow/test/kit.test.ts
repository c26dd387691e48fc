import { describeConnectorKit } from "../../../test/connector-kit/kit.js";
import { servicenow } from "../index.js";

describeConnectorKit(servicenow, {
  configFor: (sim, secret) => ({
    url: sim.url,
    auth: {
      type: "oauth-password",
      clientId: sim.credentials.clientId,
      clientSecret: secret(sim.credentials.clientSecret!),
      username: sim.credentials.username,
      password: secret(sim.credentials.password!),
    },
  }),
});
