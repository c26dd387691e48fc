import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type HttpsFront, httpsFront } from "../../../test/support/throwaway-ca.js";
import type { VantaSimulatorHandle } from "../simulator/server.js";
import { delivery, push, startSim, testDestination } from "./helpers.js";

/** An https front for the simulator with a certificate from a throwaway CA (openssl). */
describe("TLS to Vanta", () => {
  let sim: VantaSimulatorHandle;
  let front: HttpsFront;
  let url: string;
  let caPath: string;

  beforeAll(async () => {
    sim = await startSim();
    front = await httpsFront(sim.url, "vanta");
    ({ url, caPath } = front);
  });

  afterAll(async () => {
    await front?.close();
    await sim?.close();
  });

  it("refuses a server whose certificate the system roots do not trust", async () => {
    const { dest } = testDestination(sim, { url, retries: 0 });
    try {
      await expect(dest.prepare()).rejects.toMatchObject({ code: "HTTP_CONNECTION" });
      expect(sim.stats().tokensMinted).toBeUndefined();
    } finally {
      await dest.close();
    }
  });

  it("pushes over https when the configured CA file vouches for the server", async () => {
    const { dest } = testDestination(sim, { url, ca: caPath });
    try {
      await push(dest, delivery(1));
      expect(sim.records()).toHaveLength(1);
    } finally {
      await dest.close();
    }
  });

  it("an unreadable CA file is a config error naming the path", () => {
    expect(() => testDestination(sim, { url, ca: "/nonexistent/ca.pem" })).toThrow(
      /destinations\.vanta-test\.ca: cannot read CA file \/nonexistent\/ca\.pem/,
    );
  });
});
