import { defineConfig } from "vitest/config";

// SEALGATE_VITEST_JSON=path adds vitest's JSON report (read by .ci/run for its summary line).
const json = process.env.SEALGATE_VITEST_JSON;
// The reliability suite (crash trials, fault soak, fuzzing) runs on its own: npm run test:reliability.
const reliability = process.env.SEALGATE_RELIABILITY === "1";

export default defineConfig({
  test: {
    include: reliability
      ? ["test/reliability/**/*.test.ts"]
      : ["src/**/*.test.ts", "connectors/**/*.test.ts", "test/**/*.test.ts"],
    exclude: ["test/bench/**", "**/node_modules/**", ...(reliability ? [] : ["test/reliability/**"])],
    globalSetup: ["test/support/system-tools.ts", "test/support/mlflow/global-setup.ts"],
    // Separate processes: tests measure RSS and spawn servers; threads would share both.
    pool: "forks",
    testTimeout: 120_000,
    hookTimeout: 300_000,
    reporters: json ? ["default", ["json", { outputFile: json }]] : ["default"],
  },
});
