import { readFile } from "node:fs/promises";
import { parse as parseYaml, YAMLParseError } from "yaml";
import { SealgateError } from "../errors.js";
import { formatIssues } from "./issues.js";
import { SealgateConfig } from "./schema.js";

export { formatIssues };

export function parseConfig(raw: unknown, source: string): SealgateConfig {
  const result = SealgateConfig.safeParse(raw ?? {});
  if (!result.success) {
    throw new SealgateError(
      "CONFIG_INVALID",
      `config ${source} is invalid:\n${formatIssues(result.error.issues)}`,
    );
  }
  return result.data;
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
