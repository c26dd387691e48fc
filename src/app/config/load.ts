import { readFile } from "node:fs/promises";
import type { z } from "zod";
import { parse as parseYaml, YAMLParseError } from "yaml";
import { CONNECTORS } from "../../../connectors/index.js";
import { SealgateError } from "../../core/errors.js";
import { formatIssues } from "../../core/zod-issues.js";
import { SealgateConfig } from "./schema.js";
import { knownKeysAt, nearestKey } from "./unknown-keys.js";

/*
 * Reading sealgate.yaml: YAML, then the zod schema (the single source of truth), with every
 * issue named by its path. A misspelt key gets the nearest key that is valid in its place.
 */

export function parseConfig(raw: unknown, source: string): SealgateConfig {
  const result = SealgateConfig.safeParse(raw ?? {});
  if (!result.success) {
    const lines = result.error.issues.map((i) =>
      i.code === "unrecognized_keys" ? unknownKeyLines(i, raw) : formatIssues([i]),
    );
    throw new SealgateError("CONFIG_INVALID", `config ${source} is invalid:\n${lines.join("\n")}`);
  }
  return result.data;
}

/** One line per unknown key: the nearest known key at that path, or the keys allowed there. */
function unknownKeyLines(issue: z.core.$ZodIssueUnrecognizedKeys, raw: unknown): string {
  const where = issue.path.length ? issue.path.map(String).join(".") : "(top level)";
  const known = knownConfigKeys(issue.path, raw);
  return issue.keys
    .map((key) => {
      const near = nearestKey(key, known);
      if (near) return `  ${where}: Unrecognized key "${key}"; did you mean "${near}"?`;
      const allowed = known.length ? ` (allowed here: ${known.join(", ")})` : "";
      return `  ${where}: Unrecognized key "${key}": remove it or fix its spelling${allowed}`;
    })
    .join("\n");
}

/** Keys valid at `path`; a destination's own settings are its connector's schema, checked in a transform. */
function knownConfigKeys(path: readonly PropertyKey[], raw: unknown): string[] {
  const keys = knownKeysAt(SealgateConfig, path, raw);
  if (path[0] === "destinations" && path.length >= 2) {
    const all = (raw as { destinations?: Record<string, unknown> } | null)?.destinations;
    const destination = all?.[String(path[1])] as { kind?: unknown } | undefined;
    const module = typeof destination?.kind === "string" ? CONNECTORS[destination.kind] : undefined;
    if (module) keys.push(...knownKeysAt(module.config, path.slice(2), destination));
  }
  return [...new Set(keys)];
}

/** Read and validate a YAML config file. */
export async function loadConfig(path: string): Promise<SealgateConfig> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (cause) {
    const code = (cause as { code?: string }).code;
    throw new SealgateError(
      "CONFIG_INVALID",
      code === "ENOENT"
        ? `config ${path} does not exist (write one from config/sealgate.example.yaml)`
        : `cannot read config ${path} (${code})`,
      { cause },
    );
  }
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch (cause) {
    const where = cause instanceof YAMLParseError && cause.linePos ? ` at line ${cause.linePos[0].line}` : "";
    throw new SealgateError("CONFIG_INVALID", `config ${path} is not valid YAML${where}`, { cause });
  }
  return parseConfig(raw, path);
}
