import { join } from "node:path";

/**
 * A file shipped in a connector's source folder (its default mapping YAML), found also when
 * the module runs from dist/ or dist/bench/ (tsc copies no YAML):
 * `sourceFile(import.meta.dirname, "mapping.yaml")`.
 */
export function sourceFile(moduleDir: string, name: string): string {
  return join(
    moduleDir.replace(/([/\\])dist(?:[/\\]bench)?([/\\])connectors([/\\])/, "$1connectors$3"),
    name,
  );
}
