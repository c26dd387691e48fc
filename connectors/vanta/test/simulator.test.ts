import { afterEach, describe, expect, it } from "vitest";
import type { VantaSimulatorHandle } from "../simulator/server.js";
import { startSim } from "./helpers.js";

/* Protocol fidelity: the simulator answers raw HTTP the way the Vanta docs describe. */

let sim: VantaSimulatorHandle;
afterEach(async () => sim?.close());

const SCOPE = "vanta-api.all:read vanta-api.all:write vanta-api.documents:upload";

async function call(path: string, init: RequestInit & { token?: string } = {}) {
  const headers = new Headers(init.headers);
  if (init.token) headers.set("authorization", `Bearer ${init.token}`);
  const res = await fetch(`${sim.url}${path}`, { ...init, headers });
  const text = await res.text();
  return {
    status: res.status,
    headers: res.headers,
    body: text ? (JSON.parse(text) as Record<string, unknown>) : {},
  };
}

async function mint(scope = SCOPE) {
  const res = await call("/oauth/token", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ ...creds(), scope, grant_type: "client_credentials" }),
  });
  return res.body.access_token as string;
}
const creds = () => ({ client_id: sim.credentials.clientId, client_secret: sim.credentials.clientSecret });

async function newDocument(token: string, overrides: Record<string, unknown> = {}) {
  return call("/v1/documents", {
    method: "POST",
    token,
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      title: "t",
      description: "d",
      timeSensitivity: "MOST_RECENT",
      cadence: "P0D",
      reminderWindow: "P0D",
      isSensitive: false,
      ...overrides,
    }),
  });
}

describe("Vanta simulator: OAuth", () => {
  it("issues a bearer token for JSON client credentials, with expires_in", async () => {
    sim = await startSim();
    const res = await call("/oauth/token", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ ...creds(), scope: SCOPE, grant_type: "client_credentials" }),
    });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      access_token: expect.any(String),
      expires_in: 3600,
      token_type: "Bearer",
    });
  });

  it("answers OAuth errors in RFC 6749 shape", async () => {
    sim = await startSim({}, { tokenRequestsPerMinute: 100 });
    const json = { "content-type": "application/json" };
    const form = await call("/oauth/token", { method: "POST", body: new URLSearchParams(creds()) });
    expect([form.status, form.body.error]).toEqual([400, "invalid_request"]);
    const grant = await call("/oauth/token", {
      method: "POST",
      headers: json,
      body: JSON.stringify({ ...creds(), grant_type: "password" }),
    });
    expect([grant.status, grant.body.error]).toEqual([400, "unsupported_grant_type"]);
    const secret = await call("/oauth/token", {
      method: "POST",
      headers: json,
      body: JSON.stringify({ ...creds(), client_secret: "nope", grant_type: "client_credentials" }),
    });
    expect([secret.status, secret.body.error]).toEqual([401, "invalid_client"]);
    const scope = await call("/oauth/token", {
      method: "POST",
      headers: json,
      body: JSON.stringify({ ...creds(), scope: "admin", grant_type: "client_credentials" }),
    });
    expect([scope.status, scope.body.error]).toEqual([400, "invalid_scope"]);
  });

  it("keeps one active token per application: minting revokes the previous one at once", async () => {
    sim = await startSim();
    const first = await mint();
    expect((await call("/v1/documents", { token: first })).status).toBe(200);
    const second = await mint();
    expect((await call("/v1/documents", { token: first })).status).toBe(401);
    expect((await call("/v1/documents", { token: second })).status).toBe(200);
    sim.revokeTokens();
    expect((await call("/v1/documents", { token: second })).status).toBe(401);
    expect(sim.secrets()).toEqual(expect.arrayContaining([sim.credentials.clientSecret, first, second]));
  });

  it("allows 5 token requests per minute, then 429 with or without Retry-After", async () => {
    sim = await startSim({ retryAfterSeconds: 7 });
    for (let i = 0; i < 5; i++) expect(await mint()).toBeTruthy();
    const body = JSON.stringify({ ...creds(), grant_type: "client_credentials" });
    const limited = await call("/oauth/token", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body,
    });
    expect(limited.status).toBe(429);
    // The window says when a slot frees (up to a minute), not the burst knob's 7 s.
    expect(Number(limited.headers.get("retry-after"))).toBeGreaterThan(7);
    expect(Number(limited.headers.get("retry-after"))).toBeLessThanOrEqual(60);
    sim.setQuirks({ retryAfterHeader: false });
    const bare = await call("/oauth/token", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body,
    });
    expect(bare.status).toBe(429);
    expect(bare.headers.get("retry-after")).toBeNull();
  });

  it("enforces scopes: reads, writes and uploads each need their own", async () => {
    sim = await startSim();
    const readOnly = await mint("vanta-api.all:read");
    expect((await call("/v1/documents", { token: readOnly })).status).toBe(200);
    expect((await newDocument(readOnly)).status).toBe(403);
  });
});

describe("Vanta simulator: documents", () => {
  it("requires a bearer token", async () => {
    sim = await startSim();
    const res = await call("/v1/documents");
    expect(res.status).toBe(401);
    expect(res.body).toEqual({ name: "Unauthorized", message: "missing bearer token" });
  });

  it("validates document payloads with 422 naming the field", async () => {
    sim = await startSim();
    const token = await mint();
    const bad = await newDocument(token, { timeSensitivity: "SOMETIMES" });
    expect(bad.status).toBe(422);
    expect(bad.body.message).toMatch(/^timeSensitivity:/);
    expect((await newDocument(token, { externalId: "x" })).status).toBe(422);
    const ok = await newDocument(token);
    expect(ok.status).toBe(200);
    expect(ok.body).toMatchObject({ id: expect.any(String), uploadStatus: "Needs document", title: "t" });
  });

  it("pages with pageSize 1-100 and an opaque cursor", async () => {
    sim = await startSim();
    const token = await mint();
    for (let i = 0; i < 5; i++) await newDocument(token, { title: `doc ${i}` });
    expect((await call("/v1/documents?pageSize=0", { token })).status).toBe(400);
    expect((await call("/v1/documents?pageSize=101", { token })).status).toBe(400);
    expect((await call("/v1/documents?pageCursor=garbage", { token })).status).toBe(400);
    const titles: string[] = [];
    let cursor: string | null = null;
    do {
      const q: string = cursor ? `&pageCursor=${cursor}` : "";
      const res = await call(`/v1/documents?pageSize=2${q}`, { token });
      const results = res.body.results as { data: { title: string }[]; pageInfo: Record<string, unknown> };
      titles.push(...results.data.map((d) => d.title));
      cursor = results.pageInfo.hasNextPage ? (results.pageInfo.endCursor as string) : null;
    } while (cursor);
    expect(titles).toEqual(["doc 0", "doc 1", "doc 2", "doc 3", "doc 4"]);
    const def = await call("/v1/documents", { token });
    expect((def.body.results as { pageInfo: unknown }).pageInfo).toMatchObject({
      hasNextPage: false,
      hasPreviousPage: false,
    });
  });

  it("takes multipart uploads, lists them, serves their bytes, and submits only with a file", async () => {
    sim = await startSim();
    const token = await mint();
    const id = (await newDocument(token)).body.id as string;
    expect((await call(`/v1/documents/${id}/submit`, { method: "POST", token })).status).toBe(422);
    const notMultipart = await call(`/v1/documents/${id}/uploads`, {
      method: "POST",
      token,
      headers: { "content-type": "application/json" },
      body: "{}",
    });
    expect(notMultipart.status).toBe(415);
    const noFile = new FormData();
    noFile.set("description", "x");
    expect((await call(`/v1/documents/${id}/uploads`, { method: "POST", token, body: noFile })).status).toBe(
      422,
    );
    const form = new FormData();
    const bytes = new Uint8Array([0, 1, 2, 255, 13, 10, 45, 45]);
    form.set("file", new Blob([bytes], { type: "application/pdf" }), "record.pdf");
    form.set("effectiveAtDate", "2026-01-01T00:00:00.000Z");
    const up = await call(`/v1/documents/${id}/uploads`, { method: "POST", token, body: form });
    expect(up.status).toBe(201);
    expect(up.body).toMatchObject({
      fileName: "record.pdf",
      mimeType: "application/pdf",
      deletionDate: null,
    });
    const list = await call(`/v1/documents/${id}/uploads`, { token });
    expect((list.body.results as { data: { fileName: string }[] }).data.map((u) => u.fileName)).toEqual([
      "record.pdf",
    ]);
    const media = await fetch(`${sim.url}/v1/documents/${id}/uploads/${String(up.body.id)}/media`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(new Uint8Array(await media.arrayBuffer())).toEqual(bytes);
    const submitted = await call(`/v1/documents/${id}/submit`, { method: "POST", token });
    expect([submitted.status, submitted.body.uploadStatus]).toEqual([200, "OK"]);
    expect((await call(`/v1/documents/nope/uploads`, { token })).status).toBe(404);
  });

  it("applies the per-minute rate limit and 429 bursts", async () => {
    sim = await startSim({ ratePerMinute: 3 });
    const token = await mint();
    const statuses = [];
    for (let i = 0; i < 4; i++) statuses.push((await call("/v1/documents", { token })).status);
    expect(statuses).toEqual([200, 200, 200, 429]);
    // A window limit says when a slot frees (within the minute), not the burst knob's 1 s.
    const limited = await call("/v1/documents", { token });
    expect(Number(limited.headers.get("retry-after"))).toBeGreaterThan(1);
    expect(Number(limited.headers.get("retry-after"))).toBeLessThanOrEqual(60);
    sim.setFaults({ ratePerMinute: 0, burst429: 2 });
    const after = [];
    for (let i = 0; i < 3; i++) after.push((await call("/v1/documents", { token })).status);
    expect(after).toEqual([429, 429, 200]);
    expect(sim.stats()["429"]).toBe(4);
  });

  it("injects 5xx and connection resets at the configured rates", async () => {
    sim = await startSim({ errorRate: 1 });
    const token = (await call("/oauth/token", { method: "POST" })).status;
    expect([500, 503]).toContain(token);
    sim.setFaults({ errorRate: 0, resetRate: 1 });
    await expect(fetch(`${sim.url}/v1/documents`)).rejects.toThrow();
    expect(sim.stats()["5xx"]).toBe(1);
    expect((sim.stats()["reset-before"] ?? 0) + (sim.stats()["reset-after"] ?? 0)).toBe(1);
  });
});
