import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { sampleRecord } from "../../../src/dev/sample-record.js";
import { BUILTIN_FILES, unavailableFiles } from "../../../src/delivery/engine/files.js";
import { SealgateError } from "../../../src/core/errors.js";
import { compileMapping, loadMapping } from "../../../src/delivery/mapping/compile.js";
import { parseTemplate } from "../../../src/delivery/mapping/template.js";

const target = z.strictObject({ table: z.string().min(1) });
const ctx = { destination: "snow-prod", target, unavailable: unavailableFiles({}) };
const compile = (raw: unknown) => compileMapping(raw, "mappings/snow.yaml", ctx);
const base = { target: { table: "sn_grc_evidence" }, fields: {}, attachments: ["record.pdf"] };

function errorOf(raw: unknown): SealgateError {
  try {
    compile(raw);
  } catch (err) {
    return err as SealgateError;
  }
  throw new Error("compiled");
}

describe("mapping files", () => {
  it("renders templates, keeps the type of a lone placeholder, and writes statics as they are", () => {
    const m = compile({
      ...base,
      fields: {
        title: "Model {{record.model.name}} v{{ record.model.version }}",
        digest: "{{digest}}",
        auc: "{{record.challenger.candidate.auc}}",
        approver: "{{record.approvals.0.identity.email}}",
        second: "by {{record.approvals.1.identity.email}}",
        dataset: "{{record.dataset.digest}}",
        sealed: "{{record.sealedAt}}",
        cycle: "{{record.cycle.number}}",
        flag: { static: true },
        none: { static: null },
      },
    });
    const r = sampleRecord();
    expect(m.render(r, "sha256:abc")).toEqual({
      title: "Model credit-risk v3",
      digest: "sha256:abc",
      auc: 0.91,
      approver: "li.lei@example.org",
      second: "by ",
      dataset: r.dataset.contentAddressed ? r.dataset.digest : null,
      sealed: r.sealedAt,
      cycle: 2,
      flag: true,
      none: null,
    });
    expect(m.attachments).toEqual(["record.pdf"]);
    expect(m.target).toEqual({ table: "sn_grc_evidence" });
  });

  it("names destination, file, field path and fix for a path that is not in the record", () => {
    const err = errorOf({ ...base, fields: { title: "{{record.model.nmae}}" } });
    expect(err.code).toBe("CONFIG_INVALID");
    expect(err.exitCode).toBe(2);
    expect(err.message).toContain("destination snow-prod: mapping mappings/snow.yaml is invalid");
    expect(err.message).toContain("fields.title: record.model.nmae is not a field of the promotion record");
    expect(err.message).toContain("record.model has: registry, name, version");
  });

  it("refuses objects and unindexed lists where a single value is needed", () => {
    expect(errorOf({ ...base, fields: { m: "{{record.model}}" } }).message).toContain(
      "fields.m: record.model is an object; name one of its fields: registry, name",
    );
    expect(errorOf({ ...base, fields: { a: "{{record.approvals.role}}" } }).message).toContain(
      "record.approvals is a list; index it by number, e.g. record.approvals.0",
    );
    expect(errorOf({ ...base, fields: { x: "{{model.name}}" } }).message).toContain(
      "{{model.name}} is not a placeholder; use {{digest}} or {{record.<path>}}",
    );
  });

  it("checks the target section with the connector's schema, and unknown keys", () => {
    const err = errorOf({ target: { tabel: "x" }, fields: {}, extra: 1 });
    expect(err.message).toContain("(top level): Unrecognized key");
    const t = errorOf({ target: { tabel: "x" }, fields: {} });
    expect(t.message).toMatch(/target\.table: .*\n.*target: Unrecognized key.*tabel/);
  });

  it("gives a clear error for a file the build cannot provide, and for duplicates; bundle.zip is built in", () => {
    const err = errorOf({ ...base, attachments: ["evidence.json", "bundle.zip", "evidence.json"] });
    expect(err.message).toContain(
      "attachments.1: bundle.zip cannot be attached: this build has no bundle exporter",
    );
    expect(err.message).toContain("attachments.2: evidence.json is listed twice");
    const wired = compileMapping({ ...base, attachments: ["bundle.zip"] }, "m", {
      ...ctx,
      unavailable: unavailableFiles({
        "bundle.zip": { mediaType: "application/zip", provide: async () => null },
      }),
    });
    expect(wired.attachments).toEqual(["bundle.zip"]);
    const builtIn = compileMapping({ ...base, attachments: ["bundle.zip"] }, "m", {
      ...ctx,
      unavailable: unavailableFiles(BUILTIN_FILES),
    });
    expect(builtIn.attachments).toEqual(["bundle.zip"]);
  });

  it("defaults attachments to the signed evidence and the PDF", () => {
    expect(compile({ target: base.target, fields: {} }).attachments).toEqual(["evidence.json", "record.pdf"]);
  });

  it("reads YAML files and names a missing one with the config path to fix", async () => {
    const dir = await mkdtemp(join(tmpdir(), "sealgate-mapping-"));
    await writeFile(
      join(dir, "m.yaml"),
      "target: { table: t }\nfields:\n  short_description: 'v{{record.model.version}}'\n",
    );
    const m = await loadMapping(join(dir, "m.yaml"), ctx);
    expect(m.render(sampleRecord(), "d")).toEqual({ short_description: "v3" });
    await expect(loadMapping(join(dir, "nope.yaml"), ctx)).rejects.toThrow(
      /mapping .*nope.yaml does not exist; fix destinations.snow-prod.mapping/,
    );
  });

  it("never throws anything but a config error on arbitrary templates", () => {
    fc.assert(
      fc.property(fc.string(), (tpl) => {
        try {
          compile({ ...base, fields: { f: tpl } }).render(sampleRecord(), "d");
        } catch (err) {
          expect(err).toBeInstanceOf(SealgateError);
          expect((err as SealgateError).code).toBe("CONFIG_INVALID");
        }
      }),
      { numRuns: 300 },
    );
    expect(parseTemplate("plain text")).toEqual([{ text: "plain text" }]);
  });
});
