import { createHash } from "node:crypto";
import { pipeline } from "node:stream/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SealgateError } from "../../../src/core/errors.js";
import { FaultProxy } from "../../../test/support/fault-proxy.js";
import {
  listArtifactTree,
  modelVersionRoot,
  openArtifact,
  proxiedPath,
  runArtifactRoot,
  safeArtifactPath,
} from "../artifacts.js";
import { mlflow, testClient } from "./helpers.js";

interface FraudFacts {
  files: { path: string; size: number }[];
  big_file: string;
  big_size: number;
  big_sha256: string;
}

describe("artifact paths from MLflow are untrusted", () => {
  it.each([
    ["../etc/passwd", "'..'"],
    ["model/../../x", "'..'"],
    ["/etc/passwd", "absolute"],
    ["C:/x", "absolute"],
    ["a\0b", "NUL"],
    ["a\\..\\b", "backslash"],
  ])("refuses %j", (path, why) => {
    expect(() => safeArtifactPath(path)).toThrowError(why);
    try {
      safeArtifactPath(path);
    } catch (e) {
      expect((e as SealgateError).code).toBe("UNSAFE_ARTIFACT_PATH");
    }
  });

  it("normalises harmless paths", () => {
    expect(safeArtifactPath("./a//b/./c.txt")).toBe("a/b/c.txt");
    expect(safeArtifactPath("tokenizer/merges-ü.txt")).toBe("tokenizer/merges-ü.txt");
  });

  it("accepts only served-artifact URIs, with or without an authority", () => {
    expect(proxiedPath("mlflow-artifacts:/1/models/m-1/artifacts")).toBe("1/models/m-1/artifacts");
    expect(proxiedPath("mlflow-artifacts://host:5000/2/run/artifacts/model")).toBe("2/run/artifacts/model");
    expect(() => proxiedPath("s3://bucket/x")).toThrowError(/--serve-artifacts/);
    expect(() => proxiedPath("mlflow-artifacts:/1/%2e%2e/%2e%2e/x")).toThrowError(/'\.\.'/);
  });
});

describe("artifacts on a real MLflow server", () => {
  let proxy: FaultProxy;
  beforeAll(async () => {
    proxy = await new FaultProxy(mlflow().url).start();
  });
  afterAll(() => proxy.stop());
  const fraud = () => mlflow().manifest.models["fraud-detector"] as unknown as FraudFacts;

  it("lists a nested model folder recursively with sizes, including empty and Unicode-named files", async () => {
    const client = testClient();
    const root = await modelVersionRoot(client, "fraud-detector", "1");
    const tree = await listArtifactTree(client, root);
    expect(tree).toEqual(fraud().files.map((f) => ({ path: f.path, size: f.size })));
    expect(tree.map((f) => f.path)).toEqual(
      expect.arrayContaining(["weights/EMPTY", "tokenizer/merges-ü.txt"]),
    );
  });

  it("lists an MLflow 3 logged model and a run's explanation plot", async () => {
    const client = testClient();
    const tree = await listArtifactTree(client, await modelVersionRoot(client, "credit-risk", "1"));
    expect(tree.map((f) => f.path)).toEqual(expect.arrayContaining(["MLmodel", "model.skops"]));
    const v = await client.modelVersion("credit-risk", "1");
    const runTree = await listArtifactTree(client, await runArtifactRoot(client, v.run_id));
    expect(runTree.map((f) => f.path)).toContain("explanations/shap-credit-1.png");
    const png = await openArtifact(
      client,
      await runArtifactRoot(client, v.run_id),
      "explanations/shap-credit-1.png",
    );
    const h = createHash("sha256");
    await pipeline(png, h);
    const facts = (mlflow().manifest.models["credit-risk"] as { versions: { shap_png_sha256: string }[] })
      .versions[0];
    expect(h.digest("hex")).toBe(facts?.shap_png_sha256);
  });

  it("streams the 200 MB file with its exact bytes and flat memory", async () => {
    const client = testClient();
    const root = await modelVersionRoot(client, "fraud-detector", "1");
    globalThis.gc?.();
    const baseline = process.memoryUsage.rss();
    let peak = baseline;
    const timer = setInterval(() => {
      peak = Math.max(peak, process.memoryUsage.rss());
    }, 10);
    const h = createHash("sha256");
    let bytes = 0;
    try {
      const body = await openArtifact(client, root, fraud().big_file);
      body.on("data", (c: Buffer) => {
        bytes += c.length;
      });
      await pipeline(body, h);
    } finally {
      clearInterval(timer);
    }
    expect(bytes).toBe(fraud().big_size);
    expect(fraud().big_size).toBeGreaterThanOrEqual(200 << 20);
    expect(h.digest("hex")).toBe(fraud().big_sha256);
    // Buffering the file would add 200 MB; streaming stays within a few socket buffers.
    expect(peak - baseline).toBeLessThan(64 << 20);
  });

  it("refuses a listing whose entry climbs out of the model folder", async () => {
    const client = testClient({ trackingUri: proxy.url });
    const root = await modelVersionRoot(client, "fraud-detector", "1");
    proxy.inject(
      {
        rewrite: () =>
          Buffer.from(
            JSON.stringify({ files: [{ path: "../../../etc/passwd", is_dir: false, file_size: 1 }] }),
          ),
      },
      "mlflow-artifacts/artifacts?path=",
    );
    const err = await listArtifactTree(client, root).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SealgateError);
    expect((err as SealgateError).code).toBe("UNSAFE_ARTIFACT_PATH");
    expect((err as Error).message).toContain("../../../etc/passwd");
  });

  it("refuses a listing whose entry is a nested path where a basename belongs", async () => {
    const client = testClient({ trackingUri: proxy.url });
    const root = await modelVersionRoot(client, "fraud-detector", "1");
    proxy.inject(
      {
        rewrite: () => Buffer.from(JSON.stringify({ files: [{ path: "a/b", is_dir: false, file_size: 1 }] })),
      },
      "mlflow-artifacts/artifacts?path=",
    );
    const err = (await listArtifactTree(client, root).catch((e: unknown) => e)) as SealgateError;
    expect(err.code).toBe("UNSAFE_ARTIFACT_PATH");
  });
});
