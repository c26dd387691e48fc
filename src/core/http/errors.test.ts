import { describe, expect, it } from "vitest";
import { HttpStatusError, readErrorBody, redactUrl } from "./errors.js";

const statusError = (text: string, contentType?: string) =>
  new HttpStatusError({
    status: 400,
    method: "GET",
    url: "http://h/x",
    remote: readErrorBody(text, contentType),
  });

describe("error bodies, generic reading", () => {
  it("takes a JSON message, and keeps plain text and JSON-looking garbage as text", () => {
    expect(readErrorBody('{"message":"no such thing","code":"X"}', "application/json")).toEqual({
      message: "no such thing",
    });
    expect(readErrorBody(" Permission denied\n", "text/plain")).toEqual({ message: "Permission denied" });
    expect(readErrorBody("{not json", "application/json")).toEqual({ message: "{not json" });
    expect(readErrorBody('{"detail":"x"}', undefined)).toEqual({ message: '{"detail":"x"}' });
  });
  it("is clipped, and an empty body says so", () => {
    expect(statusError("x".repeat(2000)).remote.message.length).toBeLessThanOrEqual(501);
    expect(statusError("").remote.message).toBe("(empty body)");
    expect(statusError("  ").message).toBe("GET http://h/x answered 400: (empty body)");
  });
});

describe("redactUrl", () => {
  it("removes userinfo and secret-looking query values", () => {
    expect(redactUrl("https://u:p@h.example/x?name=a&access_token=t&sig=s")).toBe(
      "https://h.example/x?name=a&access_token=REDACTED&sig=REDACTED",
    );
  });
});
