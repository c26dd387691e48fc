import { describe, expect, it } from "vitest";
import { archerErrorBody } from "../errors.js";

describe("Archer error bodies", () => {
  it("reads the envelope's validation messages", () => {
    const body = JSON.stringify({
      IsSuccessful: false,
      ValidationMessages: [
        { ResourcedMessage: "The Type field is a required field." },
        { ResourcedMessage: "The Name field is too long." },
      ],
    });
    expect(archerErrorBody(body, "application/json")).toEqual({
      message: "The Type field is a required field.; The Name field is too long.",
    });
  });
  it("reads the content API's OData errors", () => {
    const body = JSON.stringify({ error: { code: "", message: "No level with alias 'x'." } });
    expect(archerErrorBody(body, "application/json")).toEqual({ message: "No level with alias 'x'." });
  });
});
