import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadConfig } from "../src/config/load.js";
import { REPO_ROOT } from "../src/dev/venv.js";
import type { SealgateError } from "../src/errors.js";

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
});
