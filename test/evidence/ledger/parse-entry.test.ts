import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { entryLine, type LedgerEntry, parseEntry } from "../../../src/evidence/ledger/ledger.js";
import { canonicalBytes } from "../../../src/record/canonical.js";
import { isDigest } from "../../../src/core/digest.js";

/*
 * parseEntry is the verifier's hot path, so it matches the one canonical form instead of
 * parsing JSON. Its contract is unchanged: accept exactly the lines that JSON.parse reads as
 * {prev, record, seq} with valid values AND whose RFC 8785 form is the line itself. This
 * reference is that contract written the slow, obvious way.
 */
function reference(line: Buffer): LedgerEntry | null {
  let v: unknown;
  try {
    v = JSON.parse(line.toString("utf8"));
  } catch {
    return null;
  }
  if (!v || typeof v !== "object" || Array.isArray(v)) return null;
  const e = v as Record<string, unknown>;
  if (Object.keys(e).length !== 3) return null;
  if (!Number.isSafeInteger(e.seq) || (e.seq as number) < 0) return null;
  if (!isDigest(e.record) || typeof e.prev !== "string" || !/^[0-9a-f]{64}$/.test(e.prev)) return null;
  const entry = { seq: e.seq as number, record: e.record, prev: e.prev };
  return Buffer.from(canonicalBytes(entry)).equals(line) ? entry : null;
}

const hex64 = fc.stringMatching(/^[0-9a-f]{64}$/);
const entry = fc.record({
  prev: hex64,
  record: hex64.map((h) => `sha256:${h}` as const),
  seq: fc.oneof(fc.nat(1000), fc.maxSafeNat()),
});

/** A valid line with one edit: a byte replaced, inserted or deleted. */
const edited = fc
  .tuple(entry, fc.nat(), fc.integer({ min: 0, max: 255 }), fc.constantFrom("replace", "insert", "delete"))
  .map(([e, at, byte, how]) => {
    const line = Buffer.from(entryLine(e));
    const i = at % line.length;
    const b = Buffer.from([byte]);
    if (how === "replace") return Buffer.concat([line.subarray(0, i), b, line.subarray(i + 1)]);
    if (how === "insert") return Buffer.concat([line.subarray(0, i), b, line.subarray(i)]);
    return Buffer.concat([line.subarray(0, i), line.subarray(i + 1)]);
  });

/** Near misses a hand-written parser could wrongly accept. */
const nearMisses = fc.oneof(
  entry.map((e) => Buffer.from(JSON.stringify({ seq: e.seq, prev: e.prev, record: e.record }))),
  entry.map((e) => Buffer.from(JSON.stringify(e, null, 1))),
  entry.map((e) => Buffer.from(`{"prev":"${e.prev}","record":"${e.record}","seq":${e.seq}.0}`)),
  entry.map((e) => Buffer.from(`{"prev":"${e.prev}","record":"${e.record}","seq":0${e.seq}}`)),
  entry.map((e) => Buffer.from(`{"prev":"${e.prev}","record":"${e.record}","seq":-${e.seq}}`)),
  entry.map((e) => Buffer.from(`{"prev":"${e.prev}","record":"${e.record}","seq":${e.seq}} `)),
  entry.map((e) => Buffer.from(`{"prev":"${e.prev.toUpperCase()}","record":"${e.record}","seq":${e.seq}}`)),
  entry.map((e) => Buffer.from(`{"prev":"\\u0030${e.prev.slice(1)}","record":"${e.record}","seq":${e.seq}}`)),
  entry.map((e) => Buffer.from(`{"prev":"${e.prev}","record":"${e.record}","seq":${e.seq},"x":1}`)),
  fc
    .bigInt({ min: 2n ** 53n, max: 10n ** 17n })
    .map((n) => Buffer.from(`{"prev":"${"0".repeat(64)}","record":"sha256:${"1".repeat(64)}","seq":${n}}`)),
);

describe("parseEntry (the verifier's fast path)", () => {
  it("reads back every canonical entry line exactly", () => {
    fc.assert(
      fc.property(entry, (e) => {
        expect(parseEntry(Buffer.from(entryLine(e)))).toEqual(e);
      }),
    );
  });

  it("agrees with the JSON-and-canonical-form reference on edited lines", () => {
    fc.assert(
      fc.property(edited, (line) => {
        expect(parseEntry(line)).toEqual(reference(line));
      }),
      {
        numRuns: 2000,
      },
    );
  });

  it("refuses non-canonical spellings of a valid entry, as the reference does", () => {
    fc.assert(
      fc.property(nearMisses, (line) => {
        expect(reference(line)).toBeNull();
        expect(parseEntry(line)).toBeNull();
      }),
    );
  });
});
