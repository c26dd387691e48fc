import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type HttpsFront, httpsFront } from "../../../test/support/throwaway-ca.js";
import type { SealgateError } from "../../../src/core/errors.js";
import { MlflowClient } from "../client.js";
import { MlflowConfig } from "../config.js";
import { mlflow } from "./helpers.js";

/** An https front for the real server with a certificate from a throwaway CA (openssl). */
describe("TLS to MLflow", () => {
  let front: HttpsFront;
  let url: string;
  let caPath: string;
  beforeAll(async () => {
    front = await httpsFront(mlflow().url, "mlflow");
    ({ url, caPath } = front);
  });
  afterAll(() => front?.close());

  const client = (caBundle?: string) =>
    new MlflowClient(
      MlflowConfig.parse({ trackingUri: url, auth: { type: "none" }, ...(caBundle ? { caBundle } : {}) }),
      {
        http: { backoff: { retries: 0 } },
      },
    );

  it("trusts the server when its CA is in the configured bundle", async () => {
    expect((await client(caPath).registeredModel("credit-risk")).name).toBe("credit-risk");
  });

  it("refuses the server without the bundle: verification stays on", async () => {
    const err = (await client()
      .registeredModel("credit-risk")
      .catch((e: unknown) => e)) as SealgateError;
    expect(err.code).toBe("HTTP_CONNECTION");
    expect(err.message).toMatch(/certificate/i);
  });

  it("names the config key when the bundle cannot be read", () => {
    expect(() => client("/nonexistent/ca.pem")).toThrowError(
      "mlflow.caBundle: cannot read /nonexistent/ca.pem",
    );
  });
});
