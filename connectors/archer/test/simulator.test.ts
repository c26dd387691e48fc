import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ArcherSimulator } from "../simulator/server.js";
import { startSim } from "./helpers.js";

/* The simulator's wire behaviour, checked with plain fetch: what a real Archer client sees. */

let sim: ArcherSimulator;
let session: string;
beforeAll(async () => {
  sim = await startSim({ maxPageSize: 50 });
  const res = await call("POST", "platformapi/core/security/login", {
    InstanceName: sim.credentials.instance,
    Username: sim.credentials.username,
    UserDomain: "",
    Password: sim.credentials.password,
  });
  session = ((await res.json()) as { RequestedObject: { SessionToken: string } }).RequestedObject
    .SessionToken;
});
afterAll(async () => {
  await sim.close();
});

async function call(method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
  return fetch(`${sim.url}/${path}`, {
    method,
    headers: { ...(body !== undefined ? { "content-type": "application/json" } : {}), ...headers },
    ...(body !== undefined ? { body: typeof body === "string" ? body : JSON.stringify(body) } : {}),
  });
}
const authed = (extra: Record<string, string> = {}) => ({
  authorization: `Archer session-id="${session}"`,
  ...extra,
});
const get = (path: string, odata: string) =>
  call("POST", path, { Value: odata }, authed({ "x-http-method-override": "GET" }));

describe("Archer simulator protocol", () => {
  it("answers a failed login with HTTP 200, IsSuccessful false and LoginNotValid, without the password", async () => {
    const res = await call("POST", "api/core/security/login", {
      InstanceName: "SealgateSim",
      Username: "sealgate-api",
      Password: "wrong-pw-123",
    });
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(text).not.toContain("wrong-pw-123");
    expect(JSON.parse(text)).toMatchObject({
      IsSuccessful: false,
      RequestedObject: null,
      ValidationMessages: [
        {
          Reason: "Validation",
          Severity: 3,
          MessageKey: "ValidationMessageTemplates:LoginNotValid",
          Location: -1,
        },
      ],
    });
  });

  it("requires the session header (quoted or not) on every other route", async () => {
    expect((await call("GET", "platformapi/core/system/application")).status).toBe(401);
    expect(
      await (
        await call("GET", "platformapi/core/content/1", undefined, {
          authorization: 'Archer session-id="nope"',
        })
      ).json(),
    ).toEqual({
      Message: "Authorization has been denied for this request.",
    });
    expect((await call("GET", "contentapi/Promotion_Record")).status).toBe(401);
    const unquoted = await call("GET", "platformapi/core/system/level/module/434", undefined, {
      authorization: `Archer session-id=${session}`,
    });
    expect(unquoted.status).toBe(200);
  });

  it("reads OData from the body under X-Http-Method-Override and refuses a bare POST to a GET route", async () => {
    const res = await get("platformapi/core/system/application", "?$top=500&$skip=2");
    const page = (await res.json()) as { IsSuccessful: boolean; RequestedObject: { Id: number } }[];
    expect(page).toHaveLength(50); // server cap below $top
    expect(page.every((e) => e.IsSuccessful)).toBe(true);
    expect(page[0]?.RequestedObject.Id).toBe(1000);
    const bare = await call("POST", "platformapi/core/system/application", { Value: "" }, authed());
    expect(bare.status).toBe(405);
  });

  it("refuses bodies that are not JSON by media type or content", async () => {
    expect(
      (await call("POST", "platformapi/core/content", "x", authed({ "content-type": "text/plain" }))).status,
    ).toBe(415);
    expect(
      (
        await call(
          "POST",
          "platformapi/core/content",
          "{not json",
          authed({ "content-type": "application/json" }),
        )
      ).status,
    ).toBe(400);
  });

  it("ignores unknown ids with IsSuccessful true, and refuses an update that changes nothing with 400", async () => {
    const created = await call(
      "POST",
      "platformapi/core/content",
      {
        Content: {
          LevelId: 1187,
          FieldContents: {
            21651: { Type: 1, Value: "t", FieldId: 21651 },
            99999: { Type: 1, Value: "ignored" },
          },
        },
      },
      authed(),
    );
    const id = ((await created.json()) as { RequestedObject: { Id: number } }).RequestedObject.Id;
    const ghost = await call(
      "PUT",
      "platformapi/core/content",
      { Content: { Id: 123, LevelId: 1187, FieldContents: {} } },
      authed(),
    );
    expect(await ghost.json()).toMatchObject({ IsSuccessful: true });
    const link = await call(
      "PUT",
      "platformapi/core/content",
      {
        Content: {
          Id: id,
          LevelId: 1187,
          FieldContents: { 21659: { Type: 11, Value: [424242], FieldId: 21659 } },
        },
      },
      authed(),
    );
    expect(await link.json()).toMatchObject({ IsSuccessful: true });
    const same = await call(
      "PUT",
      "platformapi/core/content",
      {
        Content: { Id: id, LevelId: 1187, FieldContents: { 21651: { Type: 1, Value: "t", FieldId: 21651 } } },
      },
      authed(),
    );
    expect(same.status).toBe(400);
    expect(await same.json()).toMatchObject({
      IsSuccessful: false,
      ValidationMessages: [{ ResourcedMessage: expect.stringMatching(/no field values were changed/) }],
    });
    const read = (await (
      await call("GET", `platformapi/core/content/${id}`, undefined, authed())
    ).json()) as {
      RequestedObject: { FieldContents: Record<string, { Value: unknown }> };
    };
    expect(read.RequestedObject.FieldContents["21659"]?.Value).toEqual([]);
  });

  it("filters the Content API by one eq comparison and refuses filters it cannot apply", async () => {
    const ok = await call(
      "GET",
      "contentapi/Promotion_Record?%24filter=Title%20eq%20'it''s'&%24select=Promotion_Record_Id",
      undefined,
      authed(),
    );
    expect(await ok.json()).toMatchObject({ value: [] });
    const unsupported = await call(
      "GET",
      "contentapi/Promotion_Record?$filter=startswith(Title,'a')",
      undefined,
      authed(),
    );
    expect(unsupported.status).toBe(400);
    expect(await unsupported.json()).toMatchObject({
      error: { message: expect.stringContaining("not supported") },
    });
    const unknown = await call("GET", "contentapi/Promotion_Record?$filter=Nope eq 'a'", undefined, authed());
    expect(unknown.status).toBe(400);
  });

  it("answers 429 bursts with Retry-After and counts injected faults", async () => {
    sim.setFaults({ burst429: 1, retryAfterSeconds: 7 });
    const res = await get("platformapi/core/system/level/module/434", "");
    expect(res.status).toBe(429);
    expect(res.headers.get("retry-after")).toBe("7");
    expect((await get("platformapi/core/system/level/module/434", "")).status).toBe(200);
    expect(sim.stats()["faults.429"]).toBe(1);
  });

  it("enforces a per-minute rate limit when one is configured", async () => {
    // Six calls at two per minute: even if a minute boundary falls between them, two are refused.
    sim.setFaults({ ratePerMinute: 2 });
    const statuses = [];
    for (let i = 0; i < 4; i++)
      statuses.push((await get("platformapi/core/system/level/module/434", "")).status);
    sim.setFaults({ ratePerMinute: 0 });
    expect(statuses.filter((s) => s === 429).length).toBeGreaterThanOrEqual(2);
  });
});
