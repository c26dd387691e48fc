import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadConfig, parseConfig } from "../src/app/config/load.js";
import { REPO_ROOT } from "../src/dev/venv.js";
import type { SealgateError } from "../src/core/errors.js";

describe("config loading", () => {
  it("accepts the commented example in config/", async () => {
    const config = await loadConfig(join(REPO_ROOT, "config/sealgate.example.yaml"));
    expect(config.mlflow).toMatchObject({
      trackingUri: "http://127.0.0.1:5000",
      pageSize: 1000,
      models: ["*"],
    });
  });

  it("names a missing file and where to start from", async () => {
    const err = (await loadConfig("/nonexistent/sealgate.yaml").catch((e: unknown) => e)) as SealgateError;
    expect(err.code).toBe("CONFIG_INVALID");
    expect(err.exitCode).toBe(2);
    expect(err.message).toContain("config/sealgate.example.yaml");
  });

  it("suggests the nearest known key for a misspelt one, at its path", () => {
    const message = (raw: unknown) => {
      try {
        parseConfig(raw, "t.yaml");
      } catch (err) {
        return (err as SealgateError).message;
      }
      throw new Error("expected the config to be refused");
    };
    const mlflow = { trackingUri: "http://127.0.0.1:5000" };
    expect(message({ mlflow, stroe: { path: "s" } })).toContain(
      '(top level): Unrecognized key "stroe"; did you mean "store"?',
    );
    expect(message({ mlflow: { ...mlflow, pagesize: 10 } })).toContain(
      'mlflow: Unrecognized key "pagesize"; did you mean "pageSize"?',
    );
    expect(message({ mlflow, daemon: { webhook: { secret: "${S}", tolerance: 10 } } })).toContain(
      'daemon.webhook: Unrecognized key "tolerance"; did you mean "toleranceSeconds"?',
    );
    // In a union, the keys of the option the input chose: `file` belongs to pkcs12, not pem.
    expect(
      message({ mlflow, sealing: { key: { type: "pkcs12", fil: "k.p12", passphrase: "${P}" } } }),
    ).toContain('sealing.key: Unrecognized key "fil"; did you mean "file"?');
    // A destination's keys are the common ones and its connector's own.
    const vanta = { kind: "vanta", auth: { clientId: "c", clientSecret: "${V}" } };
    expect(message({ mlflow, destinations: { v: { ...vanta, mapings: "m.yaml" } } })).toContain(
      'destinations.v: Unrecognized key "mapings"; did you mean "mapping"?',
    );
    expect(
      message({ mlflow, destinations: { v: { ...vanta, auth: { clientId: "c", clientSecrt: "${V}" } } } }),
    ).toContain('destinations.v.auth: Unrecognized key "clientSecrt"; did you mean "clientSecret"?');
    // Nothing close: say what is allowed there.
    expect(message({ mlflow, store: { path: "s", colour: "blue" } })).toContain(
      'store: Unrecognized key "colour": remove it or fix its spelling (allowed here: path)',
    );
  });
});
