// The layering rule of the README's "Architecture" section, checked on every import of the runtime
// (type-only imports count: a type pulls its module's meaning along).
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { type Edge, importEdges, REPO, runtimeFiles, stronglyConnected } from "./graph.js";
import { unitOf } from "./layers.js";

const files = runtimeFiles();
const edges = importEdges(files);
const pkg = JSON.parse(readFileSync(join(REPO, "package.json"), "utf8")) as {
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
};
const runtimePackages = new Set(Object.keys(pkg.dependencies ?? {}));
const devPackages = new Set(Object.keys(pkg.devDependencies ?? {}));

/** Every broken rule, one line each, with where it is. */
function violations(files: string[], edges: Edge[]): { key: string; at: string }[] {
  const runtime = new Set(files);
  const found: { key: string; at: string }[] = [];
  const add = (key: string, from: string, line: number) => found.push({ key, at: `${from}:${line}` });
  for (const file of files) if (!unitOf(file)) add(`not in LAYERS: ${file}`, file, 1);
  for (const e of edges) {
    if (e.bare) {
      if (devPackages.has(e.to) || !runtimePackages.has(e.to))
        add(`imports ${e.to}, not a runtime dependency: ${e.from}`, e.from, e.line);
      continue;
    }
    if (!runtime.has(e.to)) {
      add(`imports a file outside the runtime: ${e.from} -> ${e.to}`, e.from, e.line);
      continue;
    }
    const from = unitOf(e.from);
    const to = unitOf(e.to);
    if (!from || !to || from.name === to.name) continue;
    if (to.rank >= from.rank)
      add(
        `${to.rank === from.rank ? "imports a sibling" : "imports upward"}: ${e.from} -> ${e.to}`,
        e.from,
        e.line,
      );
    if (e.to === "connectors/mlflow/client.ts" && !e.from.startsWith("connectors/mlflow/"))
      add(`imports the MLflow client outside its source folder: ${e.from}`, e.from, e.line);
    if (e.to.startsWith("connectors/") && e.from.startsWith("src/") && !/^src\/(app|cli|dev)\//.test(e.from))
      add(`imports a connector below the composition layers: ${e.from} -> ${e.to}`, e.from, e.line);
  }
  return found;
}

/** Folder-level cycles: groups of folders that reach each other. */
function folderCycles(files: string[], edges: Edge[]): string[][] {
  const runtime = new Set(files);
  const graph = new Map<string, Set<string>>();
  for (const e of edges) {
    if (e.bare || !runtime.has(e.to)) continue;
    const from = unitOf(e.from)?.name ?? e.from;
    const to = unitOf(e.to)?.name ?? e.to;
    if (!graph.has(from)) graph.set(from, new Set());
    if (!graph.has(to)) graph.set(to, new Set());
    if (from !== to) graph.get(from)!.add(to);
  }
  return stronglyConnected(graph).filter((g) => g.length > 1);
}

describe("layers", () => {
  it("every import points down a layer, or stays in its folder", () => {
    expect(violations(files, edges).map((v) => `${v.at}  ${v.key}`)).toEqual([]);
  });

  it("no two folders reach each other (at most 3 groups, each named in the README)", () => {
    const groups = folderCycles(files, edges);
    expect(groups.length).toBeLessThanOrEqual(3);
    const readme = readFileSync(join(REPO, "README.md"), "utf8");
    for (const g of groups)
      for (const folder of g) expect(readme, `cycle group ${g.join(", ")}`).toContain(folder);
  });

  it("the rules catch what they are for", () => {
    // A made-up tree, so a rule that could never fire is noticed.
    const tree = [
      "src/core/errors.ts",
      "src/record/schema.ts",
      "src/cli/main.ts",
      "connectors/vanta/index.ts",
      "connectors/archer/index.ts",
      "connectors/mlflow/client.ts",
      "src/governance/review/assemble.ts",
      "src/unplaced/x.ts",
    ];
    const edge = (from: string, to: string, bare = false): Edge => ({ from, to, line: 1, bare });
    const keys = violations(tree, [
      edge("src/record/schema.ts", "src/cli/main.ts"),
      edge("src/cli/main.ts", "src/record/schema.ts"),
      edge("connectors/vanta/index.ts", "connectors/archer/index.ts"),
      edge("src/governance/review/assemble.ts", "connectors/mlflow/client.ts"),
      edge("src/core/errors.ts", "vitest", true),
      edge("src/core/errors.ts", "test/support/x.ts"),
    ]).map((v) => v.key.split(":")[0]);
    expect(keys.sort()).toEqual(
      [
        "imports a connector below the composition layers",
        "imports a file outside the runtime",
        "imports a sibling",
        "imports the MLflow client outside its source folder",
        "imports upward",
        "imports upward",
        "imports vitest, not a runtime dependency",
        "not in LAYERS",
      ].sort(),
    );
    const cycle = folderCycles(tree, [
      edge("src/record/schema.ts", "src/cli/main.ts"),
      edge("src/cli/main.ts", "src/record/schema.ts"),
    ]);
    expect(cycle).toEqual([["src/cli", "src/record"]]);
    expect(unitOf("connectors/newvendor/simulator/server.ts")?.name).toBe("connectors/newvendor/simulator");
    expect(unitOf("connectors/sdk/connector.ts")?.name).toBe("connectors/sdk");
  });
});
