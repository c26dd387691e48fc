import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type MlflowServer, startMlflowServer } from "../../../src/dev/mlflow-server.js";
import { SealgateError } from "../../../src/core/errors.js";
import { HttpStatusError } from "../../../src/core/http/errors.js";
import { FaultProxy } from "../../../test/support/fault-proxy.js";
import { MlflowClient } from "../client.js";
import { MlflowConfig } from "../config.js";
import { collect, mlflow } from "./helpers.js";

const client = (uri: string, auth: unknown, env: NodeJS.ProcessEnv) =>
  new MlflowClient(MlflowConfig.parse({ trackingUri: uri, ...(auth ? { auth } : {}) }), {
    env,
    http: { backoff: { retries: 0 } },
  });

describe("MLflow with its basic-auth app", () => {
  let server: MlflowServer;
  beforeAll(async () => {
    server = await startMlflowServer({ appName: "basic-auth" });
  });
  afterAll(() => server.stop());

  it("authenticates with MLFLOW_TRACKING_USERNAME and MLFLOW_TRACKING_PASSWORD", async () => {
    const env = { MLFLOW_TRACKING_USERNAME: "admin", MLFLOW_TRACKING_PASSWORD: server.admin?.password };
    expect(await collect(client(server.url, undefined, env).registeredModels())).toEqual([]);
  });

  it("authenticates with a password from a config reference", async () => {
    const auth = { type: "basic", username: "admin", password: "${SG_MLFLOW_PASSWORD}" };
    const c = client(server.url, auth, { SG_MLFLOW_PASSWORD: server.admin?.password });
    expect(await collect(c.registeredModels())).toEqual([]);
  });

  it("maps a wrong password to a 401 with MLflow's plain-text body and no credential in the error", async () => {
    const wrong = "Wrong-Password-4242";
    const env = { MLFLOW_TRACKING_USERNAME: "admin", MLFLOW_TRACKING_PASSWORD: wrong };
    const err = (await collect(client(server.url, undefined, env).registeredModels()).catch(
      (e) => e,
    )) as HttpStatusError;
    expect(err).toBeInstanceOf(HttpStatusError);
    expect(err.status).toBe(401);
    expect(err.remote.code).toBeUndefined();
    expect(err.remote.message.length).toBeGreaterThan(0);
    const everything = JSON.stringify({ ...err, message: err.message, stack: err.stack });
    expect(everything).not.toContain(wrong);
    expect(everything).not.toContain(Buffer.from(`admin:${wrong}`).toString("base64"));
  });

  it("names the unset variable when a secret reference cannot be resolved (exit code 2)", () => {
    const auth = { type: "basic", username: "admin", password: "${SG_UNSET_PASSWORD}" };
    let err: unknown;
    try {
      client(server.url, auth, {});
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(SealgateError);
    expect((err as SealgateError).code).toBe("SECRET_UNRESOLVED");
    expect((err as SealgateError).message).toBe(
      "mlflow.auth.password: environment variable SG_UNSET_PASSWORD is not set; export it",
    );
    expect((err as SealgateError).exitCode).toBe(2);
  });
});

describe("bearer tokens", () => {
  it("sends MLFLOW_TRACKING_TOKEN as a bearer token", async () => {
    const proxy = await new FaultProxy(mlflow().url).start();
    try {
      const c = client(proxy.url, undefined, { MLFLOW_TRACKING_TOKEN: "tok-123" });
      await c.registeredModel("credit-risk");
      expect(proxy.seen[0]?.headers.authorization).toBe("Bearer tok-123");
    } finally {
      await proxy.stop();
    }
  });

  it("refuses a literal secret in config, pointing at the reference syntax", () => {
    const r = MlflowConfig.safeParse({
      trackingUri: "http://x",
      auth: { type: "bearer", token: "literal-token" },
    });
    expect(r.success).toBe(false);
    expect(r.error?.issues[0]?.path).toEqual(["auth", "token"]);
    expect(r.error?.issues[0]?.message).toContain("${ENV_VAR} or file:");
  });

  it("refuses credentials inside the tracking URI", () => {
    const r = MlflowConfig.safeParse({ trackingUri: "https://user:pw@mlflow.example" });
    expect(r.success).toBe(false);
    expect(r.error?.issues[0]?.message).toContain("must not hold credentials");
  });
});
