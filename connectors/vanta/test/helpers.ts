import { afterEach } from "vitest";
import { createHash } from "node:crypto";
import type { Delivery, Destination, EvidenceFile } from "../../../src/delivery/destination/destination.js";
import { createLogger } from "../../../src/core/log.js";
import type { FaultKnobs } from "../../sdk/simulator.js";
import { VantaDestination } from "../client.js";
import { VantaConfig, type VantaConfigInput, VantaTarget } from "../config.js";
import { startVantaSimulator, type VantaQuirks, type VantaSimulatorHandle } from "../simulator/server.js";

/** A simulator on loopback; closed by the caller (afterEach). */
export function startSim(faults: Partial<FaultKnobs> = {}, quirks: Partial<VantaQuirks> = {}) {
  return startVantaSimulator({ faults, quirks });
}

/** Log lines captured in memory, so tests can scan them for secrets. */
export function captureLogs() {
  const lines: string[] = [];
  const logger = createLogger({ level: "debug", destination: { write: (s: string) => void lines.push(s) } });
  return { logger, lines };
}

/**
 * A destination against `sim` with a fake clock: every wait (backoff, Retry-After, token
 * budget) is recorded and advances the clock instantly, so no test waits for real time.
 */
export function testDestination(
  sim: VantaSimulatorHandle,
  overrides: Partial<VantaConfigInput> = {},
  target: Record<string, unknown> = {},
  logs = captureLogs(),
) {
  const clock = { now: Date.now(), waits: [] as number[] };
  const config = VantaConfig.parse({
    url: sim.url,
    auth: { clientId: sim.credentials.clientId, clientSecret: "${VANTA_TEST_SECRET}" },
    ...overrides,
  });
  const dest = new VantaDestination("vanta-test", config, VantaTarget.parse(target), {
    logger: logs.logger,
    env: { VANTA_TEST_SECRET: sim.credentials.clientSecret },
    now: () => clock.now,
    http: {
      backoff: { baseMs: 1, maxMs: 5 },
      sleep: async (ms: number) => {
        clock.waits.push(ms);
        clock.now += ms;
      },
    },
  });
  return { dest, clock, logs };
}

export function file(name: string, content: string, mediaType = "application/octet-stream"): EvidenceFile {
  const bytes = new TextEncoder().encode(content);
  return { name, mediaType, bytes, sha256: createHash("sha256").update(bytes).digest("hex") };
}

/** A delivery for the i-th fake record: a digest, mapped fields and three evidence files. */
export function delivery(i: number, fields: Delivery["fields"] = {}): Delivery {
  const correlation = `sha256:${createHash("sha256").update(`record ${i}`).digest("hex")}`;
  return {
    correlation,
    fields: { title: `credit-risk v${i}: approved`, ...fields },
    files: [
      file("evidence.json", JSON.stringify({ record: i, proof: "x".repeat(i % 50) }), "application/json"),
      file("record.jws", `eyJhbGciOiJFUzI1NiJ9.${i}.sig`, "application/jose"),
      file("record.pdf", `%PDF-1.7 record ${i}\n${"\u00e9".repeat(i)}`, "application/pdf"),
    ],
  };
}

/** What the delivery engine does for one record; every step is safe to repeat. */
export async function push(dest: Destination, d: Delivery): Promise<string> {
  const ref = (await dest.find(d.correlation)) ?? (await dest.create(d));
  const present = new Set((await dest.listFiles(ref)).map((f) => f.name));
  for (const f of d.files) if (!present.has(f.name)) await dest.upload(ref, f);
  await dest.finish?.(ref, d);
  return ref.id;
}

/** Every secret the simulator knows must be absent from every captured log line. */
export function leakedSecrets(sim: VantaSimulatorHandle, lines: string[]): string[] {
  const text = lines.join("\n");
  return sim.secrets().filter((s) => text.includes(s));
}

/**
 * A simulator per test and the destinations made against it, all closed after each test.
 * `start` replaces startSim in a test; `dest` is testDestination bound to that simulator.
 */
export function simulatorPerTest() {
  let sim: VantaSimulatorHandle | undefined;
  const closers: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const close of closers.splice(0)) await close();
    await sim?.close();
    sim = undefined;
  });
  return {
    async start(...args: Parameters<typeof startSim>): Promise<VantaSimulatorHandle> {
      return (sim = await startSim(...args));
    },
    /** Close something else after the test too (a destination made by hand). */
    closeAfter(close: () => Promise<void>) {
      closers.push(close);
    },
    dest(...args: Parameters<typeof testDestination> extends [unknown, ...infer R] ? R : never) {
      if (!sim) throw new Error("start the simulator before making a destination");
      const t = testDestination(sim, ...args);
      closers.push(() => t.dest.close());
      return t;
    },
  };
}
