import { createHash, randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdtemp, readdir, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { LOG_LIMITS } from "../../src/bundle/http-ledger-reader.js";
import { jsonDepthOver, MEMBER_RULES, memberRule } from "../../src/bundle/limits.js";
import { DEFAULT_LIMITS, readZip, readZipMembers } from "../../src/bundle/zip-read.js";
import { writeZip } from "../../src/bundle/zip-write.js";
import { describeError, SealgateError } from "../../src/core/errors.js";
import { cli } from "../support/cli.js";
import { rawZip } from "./raw-zip.js";

const file = (name: string, text = "x") => ({ name, data: Buffer.from(text) });

async function refusal(zip: Buffer, limits = DEFAULT_LIMITS): Promise<SealgateError> {
  const err = await readZip(zip, limits).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(SealgateError);
  return err as SealgateError;
}

describe("the deterministic zip writer", () => {
  it("writes the same bytes for the same files in any insertion order, and reads back exactly", async () => {
    const a = new Map([
      ["b/2.txt", Buffer.from("two")],
      ["a.txt", Buffer.from("one")],
    ]);
    const b = new Map([...a].reverse());
    const zip = await writeZip(a);
    expect(zip.equals(await writeZip(b))).toBe(true);
    expect(Object.fromEntries(await readZip(zip))).toEqual(Object.fromEntries(a));
    // DOS times are local: the bytes must not depend on the machine's time zone.
    const tz = process.env.TZ;
    try {
      process.env.TZ = "Pacific/Kiritimati";
      expect((await writeZip(a)).equals(zip)).toBe(true);
    } finally {
      if (tz === undefined) delete process.env.TZ;
      else process.env.TZ = tz;
    }
  });
});

describe("hostile bundles are refused with a typed error and nothing is written", () => {
  it("refuses zip-slip and absolute paths, and no file appears where they point", async () => {
    const target = join(tmpdir(), `sealgate-zip-slip-${randomBytes(6).toString("hex")}`);
    const slip = await refusal(rawZip([file(`../../../../../../../..${target}`)]));
    expect(slip.code).toBe("BUNDLE_UNSAFE");
    expect(slip.message).toContain("zip-slip");
    const abs = await refusal(rawZip([file(target)]));
    expect(abs.message).toContain("absolute path");
    expect(existsSync(target)).toBe(false);
    expect((await refusal(rawZip([file("C:/Windows/evil.dll")]))).message).toContain("absolute path");
  });

  it("refuses backslashes, empty or dot segments, control characters and non-UTF-8 names", async () => {
    expect((await refusal(rawZip([file("..\\..\\evil")]))).message).toContain("backslash");
    expect((await refusal(rawZip([file("a//b")]))).message).toContain("segment");
    expect((await refusal(rawZip([file("./a")]))).message).toContain("segment");
    expect((await refusal(rawZip([file("a\nb")]))).message).toContain("control character");
    expect(
      (await refusal(rawZip([{ name: Buffer.from([0x61, 0xff, 0xfe]), data: Buffer.from("x") }]))).message,
    ).toContain("UTF-8");
  });

  it("refuses symbolic links and other non-regular entries", async () => {
    const link = await refusal(rawZip([{ ...file("objects/x", "/etc/passwd"), mode: 0o120777 }]));
    expect(link.message).toContain("symbolic link");
    expect((await refusal(rawZip([{ ...file("fifo"), mode: 0o010644 }]))).message).toContain(
      "not a regular file",
    );
  });

  it("refuses duplicate names, also when they differ only in case", async () => {
    expect((await refusal(rawZip([file("a.txt", "1"), file("a.txt", "2")]))).message).toContain("twice");
    expect((await refusal(rawZip([file("A.txt", "1"), file("a.txt", "2")]))).message).toContain("twice");
  });

  it("refuses encrypted entries and unknown compression methods", async () => {
    expect((await refusal(rawZip([{ ...file("a"), deflate: true, flags: 1 }]))).message).toContain(
      "encrypted",
    );
    expect((await refusal(rawZip([{ ...file("a"), method: 12 }]))).message).toContain(
      "compression method 12",
    );
  });

  it("refuses zip bombs: compression ratio, entry size, total size and entry count", async () => {
    const zeros = Buffer.alloc(8 * 2 ** 20);
    const bomb = await refusal(rawZip([{ name: "bomb", data: zeros, deflate: true }]));
    expect(bomb.message).toMatch(/compression ratio \d+:1 .*zip bomb/);
    const small = { ...DEFAULT_LIMITS, maxEntryBytes: 100, maxTotalBytes: 150, maxEntries: 3 };
    expect((await refusal(rawZip([file("big", "x".repeat(101))]), small)).message).toContain(
      "100-byte limit",
    );
    expect(
      (await refusal(rawZip([file("a", "x".repeat(80)), file("b", "x".repeat(80))]), small)).message,
    ).toContain("total");
    expect((await refusal(rawZip(["a", "b", "c", "d"].map((n) => file(n))), small)).message).toContain(
      "4 entries",
    );
  });

  it("checks the ratio of every member, however small, before inflating any", async () => {
    // 1 MiB of zeros was under the old 1 MiB ratio floor: 1,000 of them were all inflated.
    const members = Array.from({ length: 3 }, (_, i) => ({
      name: `m${i}`,
      data: Buffer.alloc(2 ** 20),
      deflate: true,
    }));
    const err = await refusal(rawZip(members));
    expect(err.message).toMatch(/^bundle entry "m0": compression ratio \d+:1 is over 100:1 \(zip bomb\)/);
  });

  it("refuses a whole archive over its ratio, and a total over the inflation budget, naming each", async () => {
    const text = (n: number) => Buffer.from("abcdefghij".repeat(n));
    const zip = rawZip([1, 2, 3].map((i) => ({ name: `t${i}`, data: text(1000), deflate: true })));
    const loose = { ...DEFAULT_LIMITS, maxRatio: 1000 };
    expect((await refusal(zip, { ...loose, maxArchiveRatio: 5 })).message).toMatch(
      /bundle inflates to 30000 bytes, \d+ times its own size: over the 5:1 limit for a whole archive/,
    );
    expect((await refusal(zip, { ...loose, maxTotalBytes: 25_000 })).message).toBe(
      'bundle entry "t3": brings the total past the 25000-byte inflation budget (zip bomb); refusing the bundle',
    );
  });

  it("refuses a member over its kind's limit from its header, and hashes large objects without holding them", async () => {
    const record = rawZip([{ name: "records/1/record.json", data: Buffer.alloc(2 ** 20 + 1, 0x20) }]);
    const err = await readZipMembers(record, { policyOf: memberRule }).catch((e: unknown) => e);
    expect((err as Error).message).toBe(
      'bundle entry "records/1/record.json": declares 1048577 bytes, over the 1048576-byte limit for a record (records/<n>/record.json); refusing the bundle',
    );
    const big = randomBytes(5 * 2 ** 20);
    const name = `objects/${"ab".repeat(32)}`;
    const members = await readZipMembers(rawZip([{ name, data: big }]), { policyOf: memberRule });
    const m = members.get(name)!;
    expect(m.bytes).toBeUndefined();
    expect(m.sha256).toBe(createHash("sha256").update(big).digest("hex"));
    expect(m.tail.equals(big.subarray(-4096))).toBe(true);
  });

  it("are the limits FORMAT.md 17.5 states, so an independent verifier can apply the same", async () => {
    const format = await readFile(join(import.meta.dirname, "../../schemas/FORMAT.md"), "utf8");
    const section = format.slice(format.indexOf("### 17.5 Limits a verifier applies"));
    const rows = section.split("\n");
    for (const rule of MEMBER_RULES) {
      const path = /\((.*)\)$/.exec(rule.kind)?.[1];
      const row = rows.find((r) => (path ? r.startsWith(`| \`${path}\``) : r.startsWith("| any other name")));
      expect(row, rule.kind).toContain(`| ${rule.maxBytes} (`);
      expect(row).toMatch(new RegExp(`\\| ${rule.maxDepth || "not JSON"}\\s+\\|`));
      expect(row).toContain(
        rule.holdBytes < rule.maxBytes ? `up to ${rule.holdBytes / 2 ** 20} MiB` : "| all",
      );
    }
    const d = DEFAULT_LIMITS;
    for (const value of [d.maxZipBytes, d.maxEntryBytes, d.maxTotalBytes, d.maxHeldBytes])
      expect(section).toContain(`${value} bytes`);
    expect(section).toContain(`at most ${d.maxEntries.toLocaleString("en")}`);
    expect(section).toContain(`at most ${d.maxRatio}:1 for every member`);
    expect(section).toContain(`at most ${d.maxArchiveRatio} times the zip file's size`);
    const l = LOG_LIMITS;
    expect(section).toContain(`| ${l.connectMs / 1000} s to connect`);
    expect(section).toContain(`| ${l.idleMs / 1000} s without a byte`);
    expect(section).toContain(`| ${l.deadlineMs / 1000} s for both files`);
    expect(section).toContain(
      `${l.bytesPerEntry} bytes per entry of the bundle's checkpoint, at least ${l.minBytes}`,
    );
  });

  it("measures JSON depth in one pass that skips strings, escaped quotes included", () => {
    expect(jsonDepthOver(Buffer.from('{"a":[[1]]}'), 3)).toBe(false);
    expect(jsonDepthOver(Buffer.from('{"a":[[[1]]]}'), 3)).toBe(true);
    expect(jsonDepthOver(Buffer.from('{"a":"[[[[\\"[[[[","b":"\\\\"}'), 1)).toBe(false);
    expect(jsonDepthOver(Buffer.from("[".repeat(1e6)), 16)).toBe(true);
  });

  it("says each error once: a cause its parent already quotes is left out", () => {
    const inner = new Error("connect ECONNREFUSED 127.0.0.1:9");
    const outer = new SealgateError("BUNDLE_INVALID", `not a readable zip file (${inner.message})`, {
      cause: inner,
    });
    expect(describeError(outer)).toBe("not a readable zip file (connect ECONNREFUSED 127.0.0.1:9)");
    expect(describeError(new Error("a", { cause: new Error("b") }))).toBe("a: b");
  });

  it("refuses entries whose inflated size disagrees with their header", async () => {
    const text = Buffer.from("y".repeat(1000));
    const more = await refusal(rawZip([{ name: "a", data: text, deflate: true, declaredSize: 10 }]));
    expect(more.code).toBe("BUNDLE_UNSAFE");
    const fewer = await refusal(rawZip([{ name: "a", data: text, deflate: true, declaredSize: 5000 }]));
    expect(fewer.code).toBe("BUNDLE_UNSAFE");
    const stored = await refusal(rawZip([{ name: "a", data: text, declaredSize: 999 }]));
    expect(stored.message).toMatch(/size/);
  });

  it("refuses what is not a zip, or a truncated one, as BUNDLE_INVALID", async () => {
    expect((await refusal(Buffer.from("%PDF-1.7 not a zip"))).code).toBe("BUNDLE_INVALID");
    const zip = rawZip([file("a", "hello"), file("b", "world")]);
    expect((await refusal(zip.subarray(0, zip.length - 10))).code).toBe("BUNDLE_INVALID");
  });

  it("never crashes on arbitrary corruption of a zip: it reads or throws a SealgateError", async () => {
    const zip = await writeZip(
      new Map([
        ["a.txt", Buffer.from("hello ".repeat(50))],
        ["b/c.json", Buffer.from("{}")],
      ]),
    );
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(fc.nat(zip.length - 1), fc.integer({ min: 0, max: 255 })), {
          minLength: 1,
          maxLength: 8,
        }),
        async (edits) => {
          const bad = Buffer.from(zip);
          for (const [at, byte] of edits) bad[at] = byte;
          await readZip(bad).catch((e: unknown) => {
            if (!(e instanceof SealgateError)) throw e;
          });
        },
      ),
      { numRuns: 300 },
    );
  });

  it("sealgate verify exits 1 with the reason for a hostile bundle, and writes nothing", async () => {
    const dir = await mkdtemp(join(tmpdir(), "sealgate-hostile-"));
    await writeFile(join(dir, "evil.zip"), rawZip([file("../escape.txt")]));
    await writeFile(join(dir, "root.pem"), "");
    const r = await cli([
      "verify",
      join(dir, "evil.zip"),
      "--ca",
      join(import.meta.dirname, "../../README.md"),
    ]);
    expect(r.code).toBe(2); // an unusable --ca is a usage error, checked before the bundle
    const { devPki } = await import("../support/pki.js");
    const { pki } = await devPki();
    const v = await cli(["verify", join(dir, "evil.zip"), "--ca", pki.trust.anchors]);
    expect(v.code).toBe(1);
    expect(v.err).toContain("zip-slip");
    expect(await readdir(dir)).toEqual(["evil.zip", "root.pem"]);
    expect(existsSync(join(dir, "..", "escape.txt"))).toBe(false);
  });
});
