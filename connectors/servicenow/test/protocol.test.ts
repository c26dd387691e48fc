import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ServiceNowSimulator } from "../simulator/server.js";
import { startSim } from "./helpers.js";

/*
 * The simulator speaks the instance's protocol, probed here with plain fetch: status codes,
 * error bodies, required headers, paging headers, the OAuth endpoint's form-only rule and
 * the unknown-query-field quirk the connector has to defend against.
 */

const TABLE = "/api/now/table/sn_grc_ai_gov_ai_system_task";

describe("simulator protocol fidelity", () => {
  let sim: ServiceNowSimulator;
  let basic: string;
  const call = (path: string, init: RequestInit = {}) =>
    fetch(`${sim.url}${path}`, {
      ...init,
      headers: {
        authorization: basic,
        accept: "application/json",
        ...(init.headers as Record<string, string>),
      },
    });
  const insert = (body: unknown, headers: Record<string, string> = {}) =>
    call(TABLE, {
      method: "POST",
      body: JSON.stringify(body),
      headers: { "content-type": "application/json", ...headers },
    });

  beforeAll(async () => {
    sim = await startSim();
    basic = `Basic ${Buffer.from(`${sim.credentials.username}:${sim.credentials.password}`).toString("base64")}`;
  });
  afterAll(() => sim.close());

  it("answers 401 with the error body when credentials are missing or wrong", async () => {
    for (const authorization of ["", "Basic d3Jvbmc6d3Jvbmc=", "Bearer not-a-token"]) {
      const res = await fetch(`${sim.url}${TABLE}`, {
        headers: { authorization, accept: "application/json" },
      });
      expect(res.status).toBe(401);
      expect(await res.json()).toEqual({
        error: { message: "User Not Authenticated", detail: "Required to provide Auth information" },
        status: "failure",
      });
    }
  });

  it("requires Accept and Content-Type on writes", async () => {
    // A byte body, so fetch adds no Content-Type of its own.
    const noType = await call(TABLE, { method: "POST", body: new TextEncoder().encode("{}") });
    expect(noType.status).toBe(400);
    expect(await noType.json()).toMatchObject({
      error: { message: "Content-Type header is required" },
      status: "failure",
    });
    const noAccept = await fetch(`${sim.url}${TABLE}`, {
      method: "POST",
      body: "{}",
      headers: { authorization: basic, "content-type": "application/json", accept: "" },
    });
    expect(noAccept.status).toBe(400);
    expect((await insert({}, { "content-type": "text/plain" })).status).toBe(415);
    expect((await insert({}, { accept: "application/xml" })).status).toBe(406);
  });

  it("creates with 201, a Location header, string values, and drops unknown fields", async () => {
    const res = await insert({ short_description: "hello", priority: 3, u_not_a_column: "x" });
    expect(res.status).toBe(201);
    const { result } = (await res.json()) as { result: Record<string, unknown> };
    expect(res.headers.get("location")).toBe(`${sim.url}${TABLE}/${result.sys_id as string}`);
    expect(result).toMatchObject({
      short_description: "hello",
      priority: "3",
      sys_class_name: "sn_grc_ai_gov_ai_system_task",
    });
    expect(result).not.toHaveProperty("u_not_a_column");
    expect(result.assigned_to).toBe("");
    const silent = await insert({ short_description: "quiet" }, { "x-no-response-body": "true" });
    expect(silent.status).toBe(201);
    expect(await silent.text()).toBe("");
  });

  it("truncates over-long strings silently, as the instance does", async () => {
    const res = await insert({ short_description: "z".repeat(300) });
    const { result } = (await res.json()) as { result: { short_description: string } };
    expect(result.short_description).toHaveLength(160);
  });

  it("ignores a query condition on an unknown field (it then matches every row)", async () => {
    const all = (await (await call(`${TABLE}?sysparm_fields=sys_id`)).json()) as { result: unknown[] };
    const res = await call(`${TABLE}?sysparm_query=u_nope=nothing&sysparm_fields=sys_id`);
    expect(((await res.json()) as { result: unknown[] }).result).toHaveLength(all.result.length);
    expect(all.result.length).toBeGreaterThan(1);
  });

  it("returns no rows for an unknown field when glide.invalid_query.returns_no_rows is set", async () => {
    const strict = await startSim({
      invalidQueryReturnsNoRows: true,
      credentials: { username: sim.credentials.username!, password: sim.credentials.password! },
    });
    const headers = { authorization: basic, accept: "application/json", "content-type": "application/json" };
    await fetch(`${strict.url}${TABLE}`, { method: "POST", headers, body: '{"short_description":"a"}' });
    const res = await fetch(`${strict.url}${TABLE}?sysparm_query=u_nope=x`, { headers });
    expect(await res.json()).toEqual({ result: [] });
    await strict.close();
  });

  it("pages with sysparm_limit/sysparm_offset, Link and X-Total-Count", async () => {
    for (let i = 0; i < 5; i++) await insert({ short_description: `page-${i}` });
    const q =
      "sysparm_query=short_descriptionSTARTSWITHpage-^ORDERBYshort_description&sysparm_fields=short_description";
    const first = await call(`${TABLE}?${q}&sysparm_limit=2`);
    expect(first.headers.get("x-total-count")).toBe("5");
    const link = first.headers.get("link") ?? "";
    expect(link).toMatch(/sysparm_offset=0>;rel="first"/);
    expect(link).toMatch(/sysparm_offset=2>;rel="next"/);
    expect(link).toMatch(/sysparm_offset=4>;rel="last"/);
    expect(link).not.toMatch(/rel="prev"/);
    const next = /<([^>]+)>;rel="next"/.exec(link)![1]!;
    const second = await fetch(next, { headers: { authorization: basic, accept: "application/json" } });
    expect(await second.json()).toEqual({
      result: [{ short_description: "page-2" }, { short_description: "page-3" }],
    });
    const lastPage = await call(`${TABLE}?${q}&sysparm_limit=2&sysparm_offset=4`);
    expect(lastPage.headers.get("link")).not.toMatch(/rel="next"/);
  });

  it("shows references as {link, value} unless sysparm_exclude_reference_link=true", async () => {
    const id = "0123456789abcdef0123456789abcdef";
    const { result } = (await (await insert({ assigned_to: id })).json()) as { result: { sys_id: string } };
    const full = (await (await call(`${TABLE}/${result.sys_id}?sysparm_fields=assigned_to`)).json()) as {
      result: { assigned_to: unknown };
    };
    expect(full.result.assigned_to).toEqual({ link: expect.stringContaining(id), value: id });
    const bare = await call(
      `${TABLE}/${result.sys_id}?sysparm_fields=assigned_to&sysparm_exclude_reference_link=true`,
    );
    expect(await bare.json()).toEqual({ result: { assigned_to: id } });
  });

  it("describes its tables in sys_db_object and sys_dictionary", async () => {
    const tables = await call(
      "/api/now/table/sys_db_object?sysparm_query=name=sn_grc_ai_gov_ai_system_task&sysparm_exclude_reference_link=true",
    );
    const [table] = ((await tables.json()) as { result: { super_class: string }[] }).result;
    const parent = await call(`/api/now/table/sys_db_object?sysparm_query=sys_id=${table!.super_class}`);
    expect(((await parent.json()) as { result: { name: string }[] }).result[0]?.name).toBe("task");
    const dict = await call(
      "/api/now/table/sys_dictionary?sysparm_query=name=task^element=correlation_id&sysparm_exclude_reference_link=true",
    );
    expect(((await dict.json()) as { result: unknown[] }).result).toEqual([
      expect.objectContaining({
        name: "task",
        element: "correlation_id",
        internal_type: "string",
        max_length: "100",
      }),
    ]);
  });

  it("answers 400 for an unknown table and 404 for an unknown row", async () => {
    const res = await call("/api/now/table/no_such_table");
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({
      error: { message: "Invalid table no_such_table", detail: null },
      status: "failure",
    });
    expect((await call(`${TABLE}/${"0".repeat(32)}`)).status).toBe(404);
  });

  it("uploads raw attachments with a mandatory Content-Type and lists them by query", async () => {
    const { result } = (await (await insert({ short_description: "with files" })).json()) as {
      result: { sys_id: string };
    };
    const path = `/api/now/attachment/file?table_name=sn_grc_ai_gov_ai_system_task&table_sys_id=${result.sys_id}&file_name=a.pdf`;
    const bytes = new Uint8Array([37, 80, 68, 70, 0, 255]);
    expect((await call(path, { method: "POST", body: bytes })).status).toBe(400);
    const up = await call(path, {
      method: "POST",
      body: bytes,
      headers: { "content-type": "application/pdf" },
    });
    expect(up.status).toBe(201);
    const meta = ((await up.json()) as { result: Record<string, string> }).result;
    expect(meta).toMatchObject({
      file_name: "a.pdf",
      size_bytes: "6",
      content_type: "application/pdf",
      table_sys_id: result.sys_id,
    });
    const missing = await call(path.replace("&file_name=a.pdf", ""), {
      method: "POST",
      body: bytes,
      headers: { "content-type": "application/pdf" },
    });
    expect(missing.status).toBe(400);
    const ghost = await call(path.replace(result.sys_id, "f".repeat(32)), {
      method: "POST",
      body: bytes,
      headers: { "content-type": "application/pdf" },
    });
    expect(ghost.status).toBe(404);
    const list = await call(
      `/api/now/attachment?sysparm_query=table_sys_id=${result.sys_id}^file_name=a.pdf`,
    );
    expect(((await list.json()) as { result: unknown[] }).result).toHaveLength(1);
    const file = await call(`/api/now/attachment/${meta.sys_id}/file`, { headers: { accept: "*/*" } });
    expect(new Uint8Array(await file.arrayBuffer())).toEqual(bytes);
  });

  it("issues tokens only for form-encoded requests to /oauth_token.do", async () => {
    const { clientId, clientSecret, username, password } = sim.credentials as Record<string, string>;
    const fields = {
      grant_type: "password",
      client_id: clientId!,
      client_secret: clientSecret!,
      username: username!,
      password: password!,
    };
    const json = await fetch(`${sim.url}/oauth_token.do`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(fields),
    });
    expect(json.status).toBe(400);
    const form = await fetch(`${sim.url}/oauth_token.do`, {
      method: "POST",
      body: new URLSearchParams(fields),
    });
    expect(form.status).toBe(200);
    const token = (await form.json()) as Record<string, unknown>;
    expect(token).toMatchObject({ scope: "useraccount", token_type: "Bearer", expires_in: 1800 });
    const ok = await fetch(`${sim.url}${TABLE}?sysparm_limit=1`, {
      headers: { authorization: `Bearer ${token.access_token as string}` },
    });
    expect(ok.status).toBe(200);
    const bad = await fetch(`${sim.url}/oauth_token.do`, {
      method: "POST",
      body: new URLSearchParams({ ...fields, password: "nope" }),
    });
    expect(bad.status).toBe(401);
    expect(await bad.json()).toEqual({ error_description: "access_denied", error: "server_error" });
  });

  it("answers 429 with Retry-After and the rate-limit body, and sends X-RateLimit headers", async () => {
    sim.setFaults({ burst429: 1, retryAfterSeconds: 9 });
    const res = await call(`${TABLE}?sysparm_limit=1`);
    expect(res.status).toBe(429);
    expect(res.headers.get("retry-after")).toBe("9");
    expect(await res.json()).toMatchObject({ error: { message: "Rate limit exceeded" }, status: "failure" });
    sim.setFaults({ ratePerMinute: 2 });
    const a = await call(`${TABLE}?sysparm_limit=1`);
    expect(a.headers.get("x-ratelimit-limit")).toBe("2");
    expect(Number(a.headers.get("x-ratelimit-reset"))).toBeGreaterThan(Date.now() / 1000);
    await call(`${TABLE}?sysparm_limit=1`);
    const over = await call(`${TABLE}?sysparm_limit=1`);
    expect(over.status).toBe(429);
    expect(Number(over.headers.get("retry-after"))).toBeGreaterThan(0);
    sim.setFaults({ ratePerMinute: 0 });
  });

  it("injects 503s with the error body and resets without an answer", async () => {
    sim.failNext("503", "GET", TABLE);
    const res = await call(`${TABLE}?sysparm_limit=1`);
    expect(res.status).toBe(503);
    expect(await res.json()).toMatchObject({ error: { message: "Service Unavailable" }, status: "failure" });
    sim.failNext("reset-before", "GET", TABLE);
    await expect(call(`${TABLE}?sysparm_limit=1`)).rejects.toThrow();
  });
});
