import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { SealgateError } from "../../../src/core/errors.js";
import {
  AttachmentList,
  DbObjectList,
  DictionaryList,
  parseResponse,
  TableCreated,
  TableList,
  TokenResponse,
} from "../responses.js";

const SCHEMAS = { TableList, TableCreated, AttachmentList, DictionaryList, DbObjectList, TokenResponse };

describe("instance responses are untrusted", () => {
  it("any JSON either parses or fails as SERVICENOW_RESPONSE_INVALID, never otherwise", () => {
    fc.assert(
      fc.property(fc.constantFrom(...Object.entries(SCHEMAS)), fc.jsonValue(), ([name, schema], body) => {
        try {
          parseResponse(schema, body, name);
        } catch (err) {
          expect(err).toBeInstanceOf(SealgateError);
          expect((err as SealgateError).code).toBe("SERVICENOW_RESPONSE_INVALID");
        }
      }),
    );
  });

  it("a row is accepted only with a 32-hex sys_id, and references reduce to their value", () => {
    fc.assert(
      fc.property(fc.string(), (id) => {
        const ok = /^[0-9a-f]{32}$/.test(id);
        expect(TableList.safeParse({ result: [{ sys_id: id }] }).success).toBe(ok);
      }),
    );
    const id = "a".repeat(32);
    const row = parseResponse(
      TableList,
      { result: [{ sys_id: id, assigned_to: { link: "x", value: id } }] },
      "t",
    );
    expect(row.result[0]).toEqual({ sys_id: id, assigned_to: id });
  });

  it("names the endpoint and the field in the error", () => {
    expect(() =>
      parseResponse(AttachmentList, { result: [{ sys_id: "a".repeat(32) }] }, "attachment (list)"),
    ).toThrow(/ServiceNow attachment \(list\) answered an unexpected shape at result\.0\.file_name/);
  });

  it("attachment sizes must be decimal strings", () => {
    fc.assert(
      fc.property(fc.string(), (size) => {
        const body = {
          result: [{ sys_id: "b".repeat(32), file_name: "f", size_bytes: size, table_sys_id: "c" }],
        };
        expect(AttachmentList.safeParse(body).success).toBe(/^\d+$/.test(size));
      }),
    );
  });
});
