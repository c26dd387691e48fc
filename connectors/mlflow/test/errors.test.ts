import { describe, expect, it } from "vitest";
import { mlflowErrorBody } from "../errors.js";

describe("MLflow error bodies", () => {
  it("reads {error_code, message}", () => {
    expect(
      mlflowErrorBody(
        '{"error_code":"RESOURCE_DOES_NOT_EXIST","message":"Registered Model not found"}',
        "application/json",
      ),
    ).toEqual({ code: "RESOURCE_DOES_NOT_EXIST", message: "Registered Model not found" });
  });
  it("keeps anything else as text", () => {
    expect(mlflowErrorBody("Invalid Host header", "text/html")).toEqual({ message: "Invalid Host header" });
  });
});
