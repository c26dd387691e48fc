import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { SealgateError } from "../../../src/core/errors.js";
import { HttpStatusError } from "../../../src/core/http/errors.js";
import { FaultProxy } from "../../../test/support/fault-proxy.js";
import { MlflowClient } from "../client.js";
import { MlflowConfig } from "../config.js";
import { collect, mlflow } from "./helpers.js";

/** A client whose sleeps are recorded instead of waited, so tests see the delays it chose. */
function recordingClient(url: string, retries = 4) {
  const delays: number[] = [];
  const config = MlflowConfig.parse({ trackingUri: url, auth: { type: "none" } });
  const client = new MlflowClient(config, {
    http: {
      backoff: { retries, baseMs: 100, maxMs: 1000 },
      sleep: async (ms) => {
        delays.push(ms);
      },
    },
  });
  return { client, delays };
}

describe("retries in front of the real server", () => {
  let proxy: FaultProxy;
  beforeAll(async () => {
    proxy = await new FaultProxy(mlflow().url).start();
  });
  afterAll(() => proxy.stop());

  it("retries injected 503s with backoff and then returns the real answer", async () => {
    proxy.clear();
    proxy.inject({ status: 503, body: "upstream busy" }).inject({ status: 503, body: "upstream busy" });
    const { client, delays } = recordingClient(proxy.url);
    const model = await client.registeredModel("credit-risk");
    expect(model.name).toBe("credit-risk");
    expect(proxy.seen.map((r) => r.faulted)).toEqual([true, true, false]);
    expect(delays).toHaveLength(2);
    expect(delays[0]).toBeLessThanOrEqual(100);
    expect(delays[1]).toBeLessThanOrEqual(200);
  });

  it("honours Retry-After in seconds and as an HTTP date on 429", async () => {
    proxy.clear();
    proxy.inject({
      status: 429,
      headers: { "retry-after": "3", "content-type": "application/json" },
      body: JSON.stringify({ error_code: "REQUEST_LIMIT_EXCEEDED", message: "slow down" }),
    });
    proxy.inject({ status: 429, headers: { "retry-after": new Date(Date.now() + 5000).toUTCString() } });
    const { client, delays } = recordingClient(proxy.url);
    expect((await client.modelVersion("credit-risk", "1")).version).toBe("1");
    expect(delays[0]).toBe(3000);
    expect(delays[1]).toBeGreaterThan(3000);
    expect(delays[1]).toBeLessThanOrEqual(5000);
  });

  it("retries a reset connection", async () => {
    proxy.clear();
    proxy.inject({ reset: true });
    const { client, delays } = recordingClient(proxy.url);
    const versions = await collect(client.modelVersions("name = 'credit-risk'"));
    expect(versions).toHaveLength(3);
    expect(delays).toHaveLength(1);
  });

  it("gives up after the retry budget with a typed error carrying a plain-text body", async () => {
    proxy.clear();
    for (let i = 0; i < 3; i++) {
      proxy.inject({
        status: 503,
        headers: { "content-type": "text/plain" },
        body: "Service Unavailable: artifacts disabled",
      });
    }
    const { client } = recordingClient(proxy.url, 2);
    const err = (await client.registeredModel("credit-risk").catch((e: unknown) => e)) as HttpStatusError;
    expect(err).toBeInstanceOf(HttpStatusError);
    expect(err.status).toBe(503);
    expect(err.remote.message).toBe("Service Unavailable: artifacts disabled");
    expect(proxy.seen).toHaveLength(3);
  });

  it("does not retry a 404 or a 403 plain-text answer", async () => {
    proxy.clear();
    proxy.inject({ status: 403, headers: { "content-type": "text/plain" }, body: "Invalid Host header" });
    const { client, delays } = recordingClient(proxy.url);
    const err = (await client.registeredModel("credit-risk").catch((e: unknown) => e)) as HttpStatusError;
    expect(err.status).toBe(403);
    expect(err.remote).toEqual({ message: "Invalid Host header" });
    expect(delays).toHaveLength(0);
  });

  it("refuses to wait for a Retry-After beyond the allowed maximum", async () => {
    proxy.clear();
    proxy.inject({ status: 503, headers: { "retry-after": "86400" } });
    const { client } = recordingClient(proxy.url);
    const err = (await client.registeredModel("credit-risk").catch((e: unknown) => e)) as SealgateError;
    expect(err.code).toBe("HTTP_RETRY_AFTER_TOO_LONG");
  });

  it("reports a server that is not there as a connection failure after retries", async () => {
    const { client, delays } = recordingClient("http://127.0.0.1:9", 2);
    const err = (await client.registeredModel("x").catch((e: unknown) => e)) as SealgateError;
    expect(err.code).toBe("HTTP_CONNECTION");
    expect(err.message).toContain("after 3 attempt(s)");
    expect(delays).toHaveLength(2);
  });

  it("rejects a response of the wrong shape with the endpoint and field named", async () => {
    proxy.clear();
    proxy.inject(
      { rewrite: () => Buffer.from(JSON.stringify({ registered_model: { name: 42 } })) },
      "registered-models/get",
    );
    const { client } = recordingClient(proxy.url);
    const err = (await client.registeredModel("credit-risk").catch((e: unknown) => e)) as SealgateError;
    expect(err.code).toBe("MLFLOW_RESPONSE_INVALID");
    expect(err.message).toContain("registered-models/get");
    expect(err.message).toContain("registered_model.name");
  });
});
