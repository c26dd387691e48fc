import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { SealgateError } from "../../../src/core/errors.js";
import { toFieldContent } from "../fields.js";
import { mappingError, type ValuesLists } from "../metadata.js";
import { Content, FieldDefinition, unwrap, unwrapList } from "../responses.js";
import { ContentStore } from "../simulator/content.js";
import { parseOData } from "../simulator/odata.js";
import { PROMOTIONS, seedMetadata } from "../simulator/seed.js";

describe("untrusted Archer answers and OData literals", () => {
  it("any JSON parses to a content object or a SealgateError, never anything else", () => {
    fc.assert(
      fc.property(fc.jsonValue(), (raw) => {
        for (const read of [() => unwrap(raw, Content, "read"), () => unwrapList(raw, Content, "list")]) {
          try {
            read();
          } catch (err) {
            expect(err).toBeInstanceOf(SealgateError);
          }
        }
      }),
    );
  });

  it("an envelope with IsSuccessful false is an error whatever it carries", () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.string(), (obj, reason) => {
        const env = {
          Links: [],
          RequestedObject: obj,
          IsSuccessful: false,
          ValidationMessages: [{ ResourcedMessage: reason }],
        };
        expect(() => unwrap(env, Content, "read")).toThrow(
          expect.objectContaining({ code: "ARCHER_REJECTED" }),
        );
      }),
    );
  });

  it("a string literal quoted the way the client quotes it reaches the filter unchanged", () => {
    fc.assert(
      fc.property(fc.string(), (value) => {
        const q = new URLSearchParams({ $filter: `Record_Digest eq '${value.replaceAll("'", "''")}'` });
        expect(parseOData(q).filter).toEqual({ property: "Record_Digest", value });
      }),
    );
  });

  it("a mapped value becomes content the server accepts, or a mapping error naming the field", async () => {
    const meta = seedMetadata(0);
    const defs = meta.fields
      .filter((f) => f.LevelId === PROMOTIONS.level)
      .map((f) => FieldDefinition.parse(f));
    const lists = {
      idOf: async (_list: number, name: string, field: string) => {
        const hit = meta.valuesLists.get(5120)?.find((v) => v.Name.toLowerCase() === name.toLowerCase());
        if (!hit) throw mappingError(`fields.${field}`, `"${name}" is not an entry`);
        return hit.Id;
      },
    } as unknown as ValuesLists;
    const scalar = fc.oneof(
      fc.string(),
      fc.double(),
      fc.integer().map(String),
      fc.boolean(),
      fc.constant(null),
      fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
      fc.webUrl(),
      fc.constantFrom("Approved", "rejected"),
    );
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...defs), scalar, async (def, value) => {
        const store = new ContentStore(seedMetadata(0), 200);
        let content;
        try {
          content = await toFieldContent(def, value, lists);
        } catch (err) {
          expect(err).toMatchObject({
            code: "ARCHER_MAPPING_INVALID",
            message: expect.stringContaining(`fields.${def.Name}`),
          });
          return;
        }
        expect(content).toMatchObject({ Type: def.Type, FieldId: def.Id });
        const reply = store.create({
          LevelId: PROMOTIONS.level,
          FieldContents: { 21651: { Type: 1, Value: "title", FieldId: 21651 }, [def.Id]: content },
        });
        // An empty required field is the one thing only the server can refuse, and it does.
        const empty = content.Value === null || content.Value === "";
        expect(reply.body).toMatchObject({ IsSuccessful: !(def.IsRequired && empty) });
      }),
    );
  });
});
