import { describe, expect, inject, it } from "vitest";
import { modelVersionRoot } from "../../../connectors/mlflow/artifacts.js";
import { MlflowClient } from "../../../connectors/mlflow/client.js";
import { MlflowConfig } from "../../../connectors/mlflow/config.js";
import { hashMlflowModel } from "../../../connectors/mlflow/model-hash.js";

describe("model digest streamed from the real MLflow server", () => {
  it("equals model_signing's digest of the folder the seed uploaded, with flat memory", async () => {
    const { url, manifest } = inject("mlflow");
    const facts = manifest.models["fraud-detector"] as { oms_root: string; big_size: number };
    const client = new MlflowClient(MlflowConfig.parse({ trackingUri: url, auth: { type: "none" } }));
    const root = await modelVersionRoot(client, "fraud-detector", "1");
    globalThis.gc?.();
    const baseline = process.memoryUsage.rss();
    let peak = baseline;
    const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage.rss())), 10);
    try {
      const m = await hashMlflowModel(client, root);
      expect(m.root).toBe(`sha256:${facts.oms_root}`);
      expect(m.files.reduce((s, f) => s + f.size, 0)).toBeGreaterThan(facts.big_size);
    } finally {
      clearInterval(timer);
      await client.close();
    }
    expect(peak - baseline).toBeLessThan(96 << 20);
  });
});
