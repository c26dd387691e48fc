import { describe, expect, it } from "vitest";
import { parseErrorBody, redactUrl } from "./errors.js";

describe("error bodies", () => {
  it("reads MLflow's JSON errors", () => {
    expect(
      parseErrorBody(
        '{"error_code":"RESOURCE_DOES_NOT_EXIST","message":"Registered Model not found"}',
        "application/json",
      ),
    ).toEqual({
      code: "RESOURCE_DOES_NOT_EXIST",
      message: "Registered Model not found",
    });
  });
  it("reads ServiceNow's error envelope", () => {
    const body =
      '{"error":{"message":"Rate limit exceeded","detail":"Rate limit of 100 requests per hour"},"status":"failure"}';
    expect(parseErrorBody(body, "application/json").message).toBe(
      "Rate limit exceeded: Rate limit of 100 requests per hour",
    );
  });
  it("reads Archer's validation messages", () => {
    const body = JSON.stringify({
      IsSuccessful: false,
      ValidationMessages: [{ ResourcedMessage: "The Type field is a required field." }],
    });
    expect(parseErrorBody(body, "application/json").message).toBe("The Type field is a required field.");
  });
  it("keeps plain text and JSON-looking garbage as text, clipped", () => {
    expect(parseErrorBody("Permission denied", "text/plain")).toEqual({ message: "Permission denied" });
    expect(parseErrorBody("{not json", "application/json")).toEqual({ message: "{not json" });
    expect(parseErrorBody("x".repeat(2000), undefined).message.length).toBeLessThanOrEqual(501);
    expect(parseErrorBody("", undefined).message).toBe("(empty body)");
  });
});

describe("redactUrl", () => {
  it("removes userinfo and secret-looking query values", () => {
    expect(redactUrl("https://u:p@h.example/x?name=a&access_token=t&sig=s")).toBe(
      "https://h.example/x?name=a&access_token=REDACTED&sig=REDACTED",
    );
  });
});
