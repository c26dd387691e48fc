import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parseQuery, runQuery } from "../simulator/query.js";

const KNOWN = new Set(["correlation_id", "short_description"]);
const value = fc.string().filter((s) => !s.includes("^"));
const rows = fc.array(fc.record({ correlation_id: value, short_description: value }), { maxLength: 20 });

describe("the simulator's encoded queries", () => {
  it("field=value on a known field returns exactly the matching rows, in order", () => {
    fc.assert(
      fc.property(rows, value, (rs, v) => {
        const got = runQuery(rs, parseQuery(`correlation_id=${v}`), KNOWN, false);
        expect(got).toEqual(rs.filter((r) => r.correlation_id === v));
      }),
    );
  });

  it("a condition on an unknown field is dropped (every row matches) unless returns_no_rows is set", () => {
    fc.assert(
      fc.property(rows, value, (rs, v) => {
        const q = parseQuery(`u_unknown=${v}`);
        expect(runQuery(rs, q, KNOWN, false)).toEqual(rs);
        expect(runQuery(rs, q, KNOWN, true)).toEqual([]);
      }),
    );
  });

  it("ORDERBY and ORDERBYDESC sort by the field, stable on ties", () => {
    fc.assert(
      fc.property(rows, (rs) => {
        const up = runQuery([...rs], parseQuery("ORDERBYshort_description"), KNOWN, false);
        const down = runQuery([...rs], parseQuery("ORDERBYDESCshort_description"), KNOWN, false);
        const asc = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
        const keys = up.map((r) => r.short_description ?? "");
        expect(keys).toEqual([...keys].sort(asc));
        expect(down.map((r) => r.short_description ?? "")).toEqual([...keys].sort((a, b) => asc(b, a)));
      }),
    );
  });

  it("IN and ^-joined conditions combine as AND", () => {
    const rs = [
      { correlation_id: "a", short_description: "x" },
      { correlation_id: "b", short_description: "x" },
      { correlation_id: "c", short_description: "y" },
    ];
    expect(runQuery(rs, parseQuery("correlation_idINa,c^short_description=x"), KNOWN, false)).toEqual([
      rs[0],
    ]);
    expect(runQuery(rs, parseQuery("correlation_id!=a^ORDERBYDESCcorrelation_id"), KNOWN, false)).toEqual([
      rs[2],
      rs[1],
    ]);
  });
});
