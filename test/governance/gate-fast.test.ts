import { createHash } from "node:crypto";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { sampleRecord } from "../../src/dev/sample-record.js";
import { cli } from "../support/cli.js";
import { FsObjectStore } from "../../src/evidence/store/fs-store.js";
import { checkContent, listingDifferences } from "../../src/governance/gate/content.js";
import { gateDecisionEvent } from "../../src/governance/gate/decision-event.js";
import type { GateResult } from "../../src/governance/gate/gate.js";
import { WorkflowEvent } from "../../src/record/event.js";
import type { PromotionRecord } from "../../src/record/schema.js";
import { buildManifest } from "../../src/source/digest/model.js";
import type { RegistrySource, SourceFile, SourceVersion } from "../../src/source/registry-source.js";

/*
 * What --fast compares, without MLflow: a registry that answers what each test says, and a
 * count of re-hashes, so "passed fast" provably means "read no model bytes".
 */

const sha = (s: string) => createHash("sha256").update(s).digest("hex");
const FILES = { MLmodel: "flavors: {}\n", "weights.bin": "approved weights", "data/vocab.txt": "a b c" };
const listing = (files: Record<string, string>): SourceFile[] =>
  Object.entries(files).map(([path, body]) => ({ path, size: Buffer.byteLength(body) }));
const manifestOf = (files: Record<string, string>) =>
  buildManifest(
    Object.entries(files).map(([name, body]) => ({ name, size: Buffer.byteLength(body), digest: sha(body) })),
  );

async function setup(o: { manifestBytes?: string } = {}) {
  const store = await new FsObjectStore(await mkdtemp(join(tmpdir(), "sealgate-gate-fast-"))).init();
  const manifest = manifestOf(FILES);
  const record: PromotionRecord = sampleRecord();
  record.model.contentDigest = manifest.root;
  record.model.manifest = await store.put(Buffer.from(o.manifestBytes ?? JSON.stringify(manifest)));
  const live: SourceVersion = {
    model: record.model.name,
    version: record.model.version,
    status: "READY",
    createdAt: undefined,
    createdBy: undefined,
    source: record.model.source,
    runId: record.model.runId,
    tags: {},
  };
  let rehashes = 0;
  const registry = (files: Record<string, string>) =>
    ({
      modelFiles: async () => "root",
      list: async () => listing(files),
      hashModel: async () => {
        rehashes++;
        return manifestOf(files);
      },
    }) as unknown as RegistrySource;
  return { store, record, live, registry, rehashes: () => rehashes };
}

describe("gate --fast", () => {
  it("passes an unchanged version without reading a byte", async () => {
    const s = await setup();
    const r = await checkContent({ source: s.registry(FILES), store: s.store }, s.record, s.live, {
      fast: true,
    });
    expect(r).toEqual({ method: "fast", fallback: [], findings: [] });
    expect(s.rehashes()).toBe(0);
  });

  it("ignores the root names model signing ignores", async () => {
    const s = await setup();
    const r = await checkContent(
      { source: s.registry({ ...FILES, ".gitattributes": "*.bin lfs" }), store: s.store },
      s.record,
      s.live,
      { fast: true },
    );
    expect(r.method).toBe("fast");
    expect(s.rehashes()).toBe(0);
  });

  const cases: [string, (s: Awaited<ReturnType<typeof setup>>) => Record<string, string>, RegExp][] = [
    [
      "a changed source URI",
      (s) => ((s.live.source = "mlflow-artifacts:/elsewhere/model"), FILES),
      /^the version's source URI is now "mlflow-artifacts:\/elsewhere\/model"; "models:\/m-fc28.*" was sealed$/,
    ],
    [
      "a changed run id",
      (s) => ((s.live.runId = "0".repeat(32)), FILES),
      /^the version's run id is now "0{32}"; "082a2b0ca78443769df4fc18e88d6b92" was sealed$/,
    ],
    ["an added file", () => ({ ...FILES, "extra.py": "print()" }), /^files added since sealing: extra\.py$/],
    [
      "a removed file",
      () => ({ MLmodel: FILES.MLmodel, "weights.bin": FILES["weights.bin"] }),
      /^files removed since sealing: data\/vocab\.txt$/,
    ],
    [
      "a size change",
      () => ({ ...FILES, "weights.bin": "tampered weights, longer" }),
      /^file sizes changed since sealing: weights\.bin \(16 -> 24 bytes\)$/,
    ],
  ];

  for (const [what, change, why] of cases) {
    it(`falls back to a full re-hash on ${what}, and says why`, async () => {
      const s = await setup();
      const files = change(s);
      const r = await checkContent({ source: s.registry(files), store: s.store }, s.record, s.live, {
        fast: true,
      });
      expect(r.method).toBe("full");
      expect(r.fallback).toEqual([expect.stringMatching(why)]);
      expect(s.rehashes()).toBe(1);
      // Same bytes under another source or run: the re-hash allows; changed files: it denies.
      expect(r.findings.map((f) => f.code)).toEqual(files === FILES ? [] : ["CONTENT_CHANGED"]);
    });

    it(`denies ${what} with --no-rehash, with the reason, without re-hashing`, async () => {
      const s = await setup();
      const files = change(s);
      const r = await checkContent({ source: s.registry(files), store: s.store }, s.record, s.live, {
        fast: true,
        rehash: false,
      });
      expect(r.findings).toEqual([
        expect.objectContaining({ code: "FAST_CHECK_FAILED", message: expect.stringMatching(/--no-rehash/) }),
      ]);
      expect(r.findings[0]!.message.split("; not re-hashed")[0]).toMatch(why);
      expect(s.rehashes()).toBe(0);
    });
  }

  it("does not see a same-size change inside an unchanged file: that is what it trusts", async () => {
    const s = await setup();
    const files = { ...FILES, "weights.bin": "approved WEIGHTS" };
    const deps = { source: s.registry(files), store: s.store };
    expect((await checkContent(deps, s.record, s.live, { fast: true })).findings).toEqual([]);
    // Without --fast the same change is caught.
    expect((await checkContent(deps, s.record, s.live)).findings.map((f) => f.code)).toEqual([
      "CONTENT_CHANGED",
    ]);
  });

  it("reports every difference at once, and names at most ten files per kind", async () => {
    const s = await setup();
    s.live.runId = "";
    const many = Object.fromEntries(Array.from({ length: 12 }, (_, i) => [`shard-${i}.bin`, "x"]));
    const r = await checkContent(
      { source: s.registry({ ...FILES, ...many }), store: s.store },
      s.record,
      s.live,
      {
        fast: true,
      },
    );
    expect(r.fallback).toEqual([
      `the version's run id is now ""; "${s.record.model.runId}" was sealed`,
      expect.stringMatching(/^files added since sealing: shard-0\.bin, .*shard-9\.bin and 2 more$/),
    ]);
  });

  it("falls back when the sealed manifest is not a manifest, and denies one that does not hash to the content digest", async () => {
    const broken = await setup({ manifestBytes: '{"files":[]}' });
    const r = await checkContent(
      { source: broken.registry(FILES), store: broken.store },
      broken.record,
      broken.live,
      {
        fast: true,
      },
    );
    expect(r.method).toBe("full");
    expect(r.fallback).toEqual([
      expect.stringMatching(/^the sealed manifest sha256:.* is not a model manifest$/),
    ]);
    expect(r.findings).toEqual([]);

    const other = await setup({ manifestBytes: JSON.stringify(manifestOf({ "weights.bin": "other" })) });
    const m = await checkContent(
      { source: other.registry(FILES), store: other.store },
      other.record,
      other.live,
      {
        fast: true,
      },
    );
    expect(m.findings.map((f) => f.code)).toEqual(["MANIFEST_MISMATCH"]);
    expect(other.rehashes()).toBe(0);
  });

  it("listingDifferences: added, removed and resized in one pass", () => {
    expect(
      listingDifferences(
        manifestOf(FILES),
        listing({ MLmodel: "x", "weights.bin": FILES["weights.bin"], new: "" }),
      ),
    ).toEqual([
      "files added since sealing: new",
      "files removed since sealing: data/vocab.txt",
      `file sizes changed since sealing: MLmodel (${FILES.MLmodel.length} -> 1 bytes)`,
    ]);
  });
});

describe("the gate-decision event", () => {
  const result = (over: Partial<GateResult> = {}): GateResult => ({
    allowed: true,
    record: `sha256:${"1".repeat(64)}`,
    findings: [],
    reasons: ["FAST_FALLBACK: files added since sealing: x; re-hashed in full instead"],
    content: { method: "full", fallback: ["files added since sealing: x"] },
    cycle: 2,
    ...over,
  });

  it("carries the decision, its reasons, the record judged and its cycle, as a valid event", () => {
    const e = gateDecisionEvent({
      model: "credit-risk",
      version: "3",
      target: "prod-eu",
      result: result(),
      decidedAt: new Date("2026-12-05T12:00:00.000Z"),
    });
    expect(WorkflowEvent.parse(e)).toEqual(e);
    expect(e).toMatchObject({
      kind: "gate-decision",
      actor: "sealgate",
      cycle: 2,
      allowed: true,
      target: "prod-eu",
      record: `sha256:${"1".repeat(64)}`,
      claimedTime: "2026-12-05T12:00:00.000Z",
      reasons: [expect.stringContaining("FAST_FALLBACK")],
    });
  });

  it("names no record when the gate judged none", () => {
    const { cycle: _, ...unread } = result({ allowed: false, reasons: ["NOT_SEALED: no record"] });
    const e = gateDecisionEvent({
      model: "m",
      version: "1",
      target: "production",
      result: unread,
      decidedAt: new Date(),
    });
    expect(e).toMatchObject({ record: null, cycle: 1, allowed: false });
  });
});

describe("gate --no-rehash", () => {
  it("is a usage error without --fast: the full gate always re-hashes", async () => {
    const r = await cli([
      "gate",
      "--config",
      "nowhere.yaml",
      "--model",
      "m",
      "--version",
      "1",
      "--no-rehash",
    ]);
    expect(r.code).toBe(2);
    expect(r.err).toContain("--no-rehash applies to --fast only");
  });
});
