import { describe, expect, it } from "vitest";
import { vantaErrorBody } from "../errors.js";

describe("Vanta error bodies", () => {
  it("reads the API's {name, message}", () => {
    const body = '{"name":"NotFoundError","message":"No such document"}';
    expect(vantaErrorBody(body, "application/json")).toEqual({ message: "No such document" });
  });
  it("keeps the bare code of an OAuth error, which auth turns into a fix", () => {
    const body = '{"error":"invalid_scope","error_description":"scope not granted"}';
    expect(vantaErrorBody(body, "application/json")).toEqual({ message: "invalid_scope" });
  });
});
