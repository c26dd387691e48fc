import { describe, expect, it } from "vitest";
import { serviceNowErrorBody } from "../errors.js";

describe("ServiceNow error bodies", () => {
  it("reads the Table API's error envelope", () => {
    const body =
      '{"error":{"message":"Rate limit exceeded","detail":"Rate limit of 100 requests per hour"},"status":"failure"}';
    expect(serviceNowErrorBody(body, "application/json")).toEqual({
      message: "Rate limit exceeded: Rate limit of 100 requests per hour",
    });
  });
  it("keeps the bare code of an OAuth error", () => {
    const body = '{"error_description":"access_denied","error":"server_error"}';
    expect(serviceNowErrorBody(body, "application/json")).toEqual({ message: "server_error" });
  });
});
