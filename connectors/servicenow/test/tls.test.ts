import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { throwawayTls } from "../../../test/support/throwaway-ca.js";
import { describeError } from "../../../src/core/errors.js";
import type { ServiceNowSimulator } from "../simulator/server.js";
import { startSim, testDestination } from "./helpers.js";

/** The simulator over https with a certificate from a throwaway CA (openssl). */
describe("TLS to the instance", () => {
  let sim: ServiceNowSimulator;
  let caPath: string;
  beforeAll(async () => {
    const tls = await throwawayTls("servicenow");
    caPath = tls.caPath;
    const { key, cert } = tls;
    sim = await startSim({ tls: { cert, key } });
  });
  afterAll(() => sim?.close());

  it("refuses an instance whose certificate is not trusted", async () => {
    expect(sim.url).toMatch(/^https:/);
    const dest = testDestination(sim, { config: { retries: 0 } });
    const err = await dest.prepare().catch((e: unknown) => e);
    expect(describeError(err)).toMatch(/certificate/i);
    await dest.close();
  });

  it("trusts the CA named in config.ca", async () => {
    const dest = testDestination(sim, { config: { ca: caPath } });
    await expect(dest.prepare()).resolves.toBeUndefined();
    await dest.close();
  });

  it("names config.ca when the file cannot be read", () => {
    expect(() => testDestination(sim, { config: { ca: "/nonexistent/ca.pem" } })).toThrow(/ca: cannot read/);
  });
});
