import { readFile } from "node:fs/promises";
import { parse as parseYaml } from "yaml";
import type { z } from "zod";
import type { MappedFields } from "../destination/destination.js";
import { SealgateError } from "../../core/errors.js";
import type { PromotionRecord } from "../../record/schema.js";
import { type AttachmentName, MappingFile } from "./schema.js";
import { checkRecordPath, type Part, parseTemplate, renderParts, type Scalar } from "./template.js";

/*
 * Turn a mapping file into something the engine can apply without further checks. Every error
 * names the destination, the mapping file, the field path and the fix.
 */

export interface CompiledMapping<Target = unknown> {
  /** Where the mapping came from, for messages. */
  source: string;
  target: Target;
  attachments: AttachmentName[];
  /** Target field names, for `config check --remote`. */
  fieldNames: string[];
  render(record: PromotionRecord, digest: string): MappedFields;
}

export interface CompileContext<Target> {
  destination: string;
  /** The connector's schema for the mapping's `target:` section. */
  target: z.ZodType<Target>;
  /** Evidence files this build can produce, with the reason for each that it cannot. */
  unavailable?: Partial<Record<AttachmentName, string>>;
}

export function compileMapping<Target>(
  raw: unknown,
  source: string,
  ctx: CompileContext<Target>,
): CompiledMapping<Target> {
  const fail = (lines: string[]) =>
    new SealgateError(
      "CONFIG_INVALID",
      `destination ${ctx.destination}: mapping ${source} is invalid:\n${lines.map((l) => `  ${l}`).join("\n")}`,
    );
  const parsed = MappingFile.safeParse(raw ?? {});
  if (!parsed.success) throw fail(parsed.error.issues.map(issueLine));
  const file = parsed.data;
  const problems: string[] = [];

  const target = ctx.target.safeParse(file.target);
  if (!target.success)
    problems.push(...target.error.issues.map((i) => issueLine({ ...i, path: ["target", ...i.path] })));

  const fields: [string, Part[] | { static: Scalar }][] = [];
  for (const [name, value] of Object.entries(file.fields)) {
    if (typeof value !== "string") {
      fields.push([name, value]);
      continue;
    }
    const parts = parseTemplate(value);
    if (typeof parts === "string") {
      problems.push(`fields.${name}: ${parts}`);
      continue;
    }
    for (const p of parts) {
      if ("path" in p && p.path[0] === "record") {
        const problem = checkRecordPath(p.path.slice(1));
        if (problem) problems.push(`fields.${name}: ${problem}`);
      }
    }
    fields.push([name, parts]);
  }

  const seen = new Set<string>();
  file.attachments.forEach((a, i) => {
    if (seen.has(a)) problems.push(`attachments.${i}: ${a} is listed twice; list each file once`);
    seen.add(a);
    const why = ctx.unavailable?.[a];
    if (why) problems.push(`attachments.${i}: ${a} cannot be attached: ${why}`);
  });

  if (problems.length) throw fail(problems);
  return {
    source,
    target: target.data as Target,
    attachments: file.attachments,
    fieldNames: Object.keys(file.fields),
    render(record, digest) {
      const out: MappedFields = {};
      for (const [name, parts] of fields)
        out[name] = "static" in parts ? parts.static : renderParts(parts, record, digest);
      return out;
    },
  };
}

/** Read a mapping YAML file and compile it. */
export async function loadMapping<Target>(
  path: string,
  ctx: CompileContext<Target>,
): Promise<CompiledMapping<Target>> {
  let raw: unknown;
  try {
    raw = parseYaml(await readFile(path, "utf8"));
  } catch (cause) {
    const code = (cause as { code?: string }).code;
    throw new SealgateError(
      "CONFIG_INVALID",
      code === "ENOENT"
        ? `destination ${ctx.destination}: mapping ${path} does not exist; fix destinations.${ctx.destination}.mapping or remove it to use the connector's default`
        : `destination ${ctx.destination}: mapping ${path} is not readable YAML (${code ?? (cause as Error).message})`,
      { cause },
    );
  }
  return compileMapping(raw, path, ctx);
}

function issueLine(i: { path: PropertyKey[]; message: string; code?: string; keys?: string[] }): string {
  const path = i.path.length ? i.path.map(String).join(".") : "(top level)";
  const keys =
    i.code === "unrecognized_keys" && i.keys ? ` (${i.keys.join(", ")}): remove it or fix its spelling` : "";
  return `${path}: ${i.message}${keys}`;
}
