import { join } from "node:path";
import { describeConnectorKit } from "./kit.js";
import reference from "../../connectors/reference/index.js";
import { referenceSimulator } from "../../connectors/reference/simulator/index.js";
import { REPO_ROOT } from "../../src/dev/venv.js";

// The kit on its own reference connector (30 records instead of 200 to spare CI; the real
// connectors run the default).
describeConnectorKit(reference, {
  configFor: (sim, secret) => ({
    url: sim.url,
    auth: { clientId: sim.credentials.clientId!, clientSecret: secret(sim.credentials.clientSecret!) },
  }),
  records: 30,
  simulator: referenceSimulator,
  modulePath: join(REPO_ROOT, "dist/connectors/reference/index.js"),
});
