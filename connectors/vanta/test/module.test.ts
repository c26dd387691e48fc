import { readFileSync } from "node:fs";
import { afterEach, describe, expect, it, vi } from "vitest";
import { parse } from "yaml";
import { createLogger } from "../../../src/core/log.js";
import { unknownFieldFindings } from "../fields.js";
import { vanta } from "../index.js";
import { vantaSimulator } from "../simulator/index.js";
import { delivery, push } from "./helpers.js";

afterEach(() => vi.restoreAllMocks());

describe("the Vanta connector module", () => {
  it("parses a minimal config with the documented defaults", () => {
    const config = vanta.config.parse({ auth: { clientId: "app", clientSecret: "${VANTA_SECRET}" } });
    expect(config).toMatchObject({
      url: "https://api.vanta.com",
      pageSize: 100,
      tokenRequestsPerMinute: 5,
      retryAfterFallbackMs: 61_000,
    });
    expect(vanta.queueDefaults).toEqual({ concurrency: 4, perMinute: 100 });
    expect(vanta.secretPaths).toEqual(["auth.clientSecret"]);
  });

  it("rejects a literal secret, credentials in the URL, unknown keys and out-of-range page sizes", () => {
    const bad = (input: unknown) => vanta.config.safeParse(input).error?.issues.map((i) => i.path.join("."));
    const auth = { clientId: "app", clientSecret: "${S}" };
    expect(bad({ auth: { clientId: "app", clientSecret: "vcs_live_secret" } })).toEqual([
      "auth.clientSecret",
    ]);
    expect(bad({ auth, url: "https://user:pw@api.vanta.com" })).toContain("url");
    expect(bad({ auth, verifyTls: false })).toEqual([""]);
    expect(bad({ auth, pageSize: 101 })).toEqual(["pageSize"]);
  });

  it("rejects target settings Vanta would refuse, naming the field", () => {
    const issues = vanta.target.safeParse({ timeSensitivity: "ALWAYS", cadence: "quarterly", colour: "red" })
      .error?.issues;
    expect(issues?.map((i) => i.path.join(".") || i.code).sort()).toEqual([
      "cadence",
      "timeSensitivity",
      "unrecognized_keys",
    ]);
  });

  it("ships a default mapping whose target parses and whose fields Vanta documents have", () => {
    const mapping = parse(readFileSync(vanta.defaultMappingPath, "utf8")) as {
      target: unknown;
      fields: Record<string, string>;
      attachments: string[];
    };
    expect(vanta.target.parse(mapping.target)).toMatchObject({
      submit: true,
      timeSensitivity: "MOST_RECENT",
    });
    expect(unknownFieldFindings(Object.keys(mapping.fields))).toEqual([]);
    expect(mapping.fields.title).toContain("{{record.model.name}}");
    expect(mapping.attachments).toEqual([
      "evidence.json",
      "record.json",
      "record.jws",
      "record.p7s",
      "record.pdf",
    ]);
  });

  it("its simulator prints nothing and returns a working simulator the module's destination can push to", async () => {
    const out = vi.spyOn(process.stdout, "write");
    const log = vi.spyOn(console, "log");
    const sim = await vantaSimulator.start({ port: 0 });
    const lines: string[] = [];
    const logger = createLogger({ destination: { write: (s: string) => void lines.push(s) } });
    const config = vanta.config.parse({
      url: sim.url,
      auth: { clientId: sim.credentials.clientId, clientSecret: "${VANTA_MODULE_TEST_SECRET}" },
    });
    process.env.VANTA_MODULE_TEST_SECRET = sim.credentials.clientSecret;
    const dest = vanta.create("vanta-prod", config, vanta.target.parse({}), { logger });
    try {
      expect(dest.kind).toBe("vanta");
      expect(dest.name).toBe("vanta-prod");
      await dest.prepare();
      await push(dest, delivery(1));
      expect(sim.records()).toHaveLength(1);
      expect(out).not.toHaveBeenCalled();
      expect(log).not.toHaveBeenCalled();
    } finally {
      delete process.env.VANTA_MODULE_TEST_SECRET;
      await dest.close();
      await sim.close();
    }
  });
});
