import { createHash } from "node:crypto";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { entryLine, type LedgerEntry, parseEntry } from "../../../src/evidence/ledger/ledger.js";
import { canonicalBytes } from "../../../src/record/canonical.js";
import { isDigest } from "../../../src/core/digest.js";

/*
 * parseEntry is the verifier's hot path, so it matches the canonical forms instead of parsing
 * JSON. Its contract: accept exactly the lines that JSON.parse reads as a v1 entry
 * {prev, record, seq} or a v2 entry {kind, object, prev, seal?, seq, time} with valid values
 * AND whose RFC 8785 form is the line itself. This reference is that contract written the
 * slow, obvious way.
 */
const HEX = /^[0-9a-f]{64}$/;
const isTime = (t: unknown) =>
  typeof t === "string" &&
  /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/.test(t) &&
  !Number.isNaN(Date.parse(t)) &&
  new Date(t).toISOString() === t;

function reference(line: Buffer): LedgerEntry | null {
  let v: unknown;
  try {
    v = JSON.parse(line.toString("utf8"));
  } catch {
    return null;
  }
  if (!v || typeof v !== "object" || Array.isArray(v)) return null;
  const e = v as Record<string, unknown>;
  if (!Number.isSafeInteger(e.seq) || (e.seq as number) < 0) return null;
  if (typeof e.prev !== "string" || !HEX.test(e.prev)) return null;
  let entry: LedgerEntry;
  let shape: Record<string, unknown>;
  if ("record" in e) {
    if (Object.keys(e).length !== 3 || !isDigest(e.record)) return null;
    entry = { seq: e.seq as number, prev: e.prev, kind: "record", object: e.record };
    shape = { prev: e.prev, record: e.record, seq: e.seq };
  } else {
    const keys = e.kind === "record" ? 6 : 5;
    if (Object.keys(e).length !== keys || (e.kind !== "record" && e.kind !== "event")) return null;
    if (!isDigest(e.object) || !isTime(e.time)) return null;
    if (e.kind === "record" && !isDigest(e.seal)) return null;
    entry = { seq: e.seq as number, prev: e.prev, kind: e.kind, object: e.object, time: e.time as string };
    if (e.kind === "record") entry.seal = e.seal as `sha256:${string}`;
    shape = e;
  }
  return Buffer.from(canonicalBytes(shape)).equals(line) ? entry : null;
}

const hex64 = fc.stringMatching(/^[0-9a-f]{64}$/);
const digest = hex64.map((h) => `sha256:${h}` as const);
const seq = fc.oneof(fc.nat(1000), fc.maxSafeNat());
const time = fc
  .date({
    min: new Date("1970-01-01T00:00:00.000Z"),
    max: new Date("9999-12-31T23:59:59.999Z"),
    noInvalidDate: true,
  })
  .map((d) => d.toISOString());
const v1 = fc
  .record({ prev: hex64, object: digest, seq })
  .map((e): LedgerEntry => ({ ...e, kind: "record" }));
const v2record = fc
  .record({ prev: hex64, object: digest, seal: digest, seq, time })
  .map((e): LedgerEntry => ({ ...e, kind: "record" }));
const v2event = fc
  .record({ prev: hex64, object: digest, seq, time })
  .map((e): LedgerEntry => ({ ...e, kind: "event" }));
const entry = fc.oneof(v1, v2record, v2event);

/** A valid line with one edit: a byte replaced, inserted or deleted. */
const edited = fc
  .tuple(entry, fc.nat(), fc.integer({ min: 0, max: 255 }), fc.constantFrom("replace", "insert", "delete"))
  .map(([e, at, byte, how]) => {
    const line = Buffer.from(entryLine(e));
    const i = at % line.length;
    const b = Buffer.from([byte]);
    let out: Buffer;
    if (how === "replace") out = Buffer.concat([line.subarray(0, i), b, line.subarray(i + 1)]);
    else if (how === "insert") out = Buffer.concat([line.subarray(0, i), b, line.subarray(i)]);
    else out = Buffer.concat([line.subarray(0, i), line.subarray(i + 1)]);
    return { line, out };
  });

const z = "0".repeat(64);
const d1 = `sha256:${"1".repeat(64)}`;
/** Near misses a hand-written parser could wrongly accept. */
const nearMisses = fc.oneof(
  v1.map((e) => Buffer.from(JSON.stringify({ seq: e.seq, prev: e.prev, record: e.object }))),
  v1.map((e) => Buffer.from(`{"prev":"${e.prev}","record":"${e.object}","seq":${e.seq}.0}`)),
  v1.map((e) => Buffer.from(`{"prev":"${e.prev}","record":"${e.object}","seq":0${e.seq}}`)),
  v1.map((e) => Buffer.from(`{"prev":"${e.prev}","record":"${e.object}","seq":${e.seq}} `)),
  v1.map((e) => Buffer.from(`{"prev":"${e.prev.toUpperCase()}","record":"${e.object}","seq":${e.seq}}`)),
  v1.map((e) => Buffer.from(`{"prev":"\\u0030${e.prev.slice(1)}","record":"${e.object}","seq":${e.seq}}`)),
  v1.map((e) => Buffer.from(`{"prev":"${e.prev}","record":"${e.object}","seq":${e.seq},"x":1}`)),
  v2record.map((e) => Buffer.from(JSON.stringify(e, null, 1))),
  // An event with a seal, a record without one, times that are not the canonical form.
  v2event.map((e) =>
    Buffer.from(
      `{"kind":"event","object":"${e.object}","prev":"${e.prev}","seal":"${d1}","seq":${e.seq},"time":"${e.time}"}`,
    ),
  ),
  v2event.map((e) =>
    Buffer.from(
      `{"kind":"record","object":"${e.object}","prev":"${e.prev}","seq":${e.seq},"time":"${e.time}"}`,
    ),
  ),
  fc
    .constantFrom(
      "2026-02-30T00:00:00.000Z",
      "2026-13-01T00:00:00.000Z",
      "2026-01-01T24:00:00.000Z",
      "2026-01-01T00:00:60.000Z",
      "2026-01-01T00:00:00Z",
      "2026-01-01T00:00:00.0000Z",
      "2026-01-01 00:00:00.000Z",
      "2026-01-01T00:00:00.000+00:00",
    )
    .map((t) => Buffer.from(`{"kind":"event","object":"${d1}","prev":"${z}","seq":0,"time":"${t}"}`)),
  fc
    .bigInt({ min: 2n ** 53n, max: 10n ** 17n })
    .map((n) =>
      Buffer.from(
        `{"kind":"event","object":"${d1}","prev":"${z}","seq":${n},"time":"2026-01-01T00:00:00.000Z"}`,
      ),
    ),
);

const sha = (b: Buffer) => createHash("sha256").update(b).digest("hex");

describe("parseEntry (the verifier's fast path)", () => {
  it("reads back every canonical v1 and v2 entry line exactly", () => {
    fc.assert(
      fc.property(entry, (e) => {
        expect(parseEntry(Buffer.from(entryLine(e)))).toEqual(e);
      }),
    );
  });

  it("agrees with the JSON-and-canonical-form reference on edited lines", () => {
    fc.assert(
      fc.property(edited, ({ out }) => {
        expect(parseEntry(out)).toEqual(reference(out));
      }),
      { numRuns: 3000 },
    );
  });

  it("rejects any edit of a canonical line, or reads it as another entry whose own line (and digest) it is", () => {
    fc.assert(
      fc.property(edited, ({ line, out }) => {
        const parsed = parseEntry(out);
        if (out.equals(line)) return;
        if (parsed === null) return;
        // Accepted only as a different entry, spelled canonically: so its digest differs too.
        expect(Buffer.from(entryLine(parsed)).equals(out)).toBe(true);
        expect(sha(out)).not.toBe(sha(line));
        expect(parsed).not.toEqual(parseEntry(line));
      }),
      { numRuns: 3000 },
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

  it("writes a v1 line for an entry without time and v2 lines otherwise", () => {
    const v1line = entryLine({ seq: 0, prev: z, kind: "record", object: d1 as `sha256:${string}` });
    expect(v1line.toString()).toBe(`{"prev":"${z}","record":"${d1}","seq":0}`);
    const ev = entryLine({
      seq: 1,
      prev: z,
      kind: "event",
      object: d1 as `sha256:${string}`,
      time: "2026-12-05T08:00:00.000Z",
    });
    expect(ev.toString()).toBe(
      `{"kind":"event","object":"${d1}","prev":"${z}","seq":1,"time":"2026-12-05T08:00:00.000Z"}`,
    );
    expect(() => entryLine({ seq: 1, prev: z, kind: "event", object: d1 as `sha256:${string}` })).toThrow();
  });
});
