import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { throwawayTls } from "../../../test/support/throwaway-ca.js";
import type { ArcherSimulator } from "../simulator/server.js";
import { delivery, destination, startSim } from "./helpers.js";

/** The simulator over https with a certificate from a throwaway CA (openssl). */
describe("TLS to Archer", () => {
  let sim: ArcherSimulator;
  let caPath: string;
  beforeAll(async () => {
    const tls = await throwawayTls("archer");
    caPath = tls.caPath;
    const { key, cert } = tls;
    sim = await startSim({ tls: { key, cert } });
  });
  afterAll(async () => {
    await sim.close();
  });

  it("trusts the configured CA bundle", async () => {
    expect(sim.url).toMatch(/^https:/);
    const dest = destination(sim, { config: { ca: caPath } });
    await dest.prepare();
    await dest.create(delivery(1));
    expect(sim.records()).toHaveLength(1);
    await dest.close();
  });

  it("refuses an untrusted certificate instead of sending the password", async () => {
    const logins = () => sim.stats()["POST platformapi/core/security/login"] ?? 0;
    const before = logins();
    const dest = destination(sim);
    await expect(dest.prepare()).rejects.toMatchObject({
      code: "HTTP_CONNECTION",
      message: expect.stringMatching(/certificate/i),
    });
    expect(logins()).toBe(before); // the login request never reached the server
    await dest.close();
  });
});
