// The runtime import graph, read with the TypeScript compiler API (no new dependency):
// which files tsconfig.json compiles, and every module each of them names, type-only imports included.
import { readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import ts from "typescript";

export const REPO = resolve(import.meta.dirname, "../..");

export interface Edge {
  from: string; // repo-relative path of the importing file
  to: string; // repo-relative path of the imported file, or the package name for a bare specifier
  line: number;
  bare: boolean;
}

/** The files `tsc -p tsconfig.json` compiles into dist/: the runtime. */
export function runtimeFiles(root = REPO): string[] {
  const parsed = ts.getParsedCommandLineOfConfigFile(
    join(root, "tsconfig.json"),
    {},
    {
      ...ts.sys,
      onUnRecoverableConfigFileDiagnostic: (d) => {
        throw new Error(ts.flattenDiagnosticMessageText(d.messageText, "\n"));
      },
    },
  );
  if (!parsed) throw new Error("tsconfig.json could not be read");
  return parsed.fileNames.map((f) => relative(root, f)).sort();
}

function packageOf(spec: string): string {
  const parts = spec.split("/");
  return spec.startsWith("@") ? parts.slice(0, 2).join("/") : parts[0]!;
}

/** Every import, export-from and dynamic import() of the given files. */
export function importEdges(files: string[], root = REPO): Edge[] {
  const edges: Edge[] = [];
  for (const file of files) {
    const text = readFileSync(join(root, file), "utf8");
    const info = ts.preProcessFile(text, true, true);
    const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest);
    for (const ref of info.importedFiles) {
      const spec = ref.fileName;
      const line = ts.getLineAndCharacterOfPosition(source, ref.pos).line + 1;
      if (spec.startsWith("node:")) continue;
      if (!spec.startsWith(".")) {
        edges.push({ from: file, to: packageOf(spec), line, bare: true });
        continue;
      }
      // NodeNext specifiers name the emitted .js; the source is the .ts beside it.
      const target = relative(root, resolve(root, dirname(file), spec)).replace(/\.js$/, ".ts");
      edges.push({ from: file, to: target, line, bare: false });
    }
  }
  return edges;
}

/** Strongly connected groups (Tarjan) of a directed graph given as adjacency sets. */
export function stronglyConnected(graph: Map<string, Set<string>>): string[][] {
  let index = 0;
  const stack: string[] = [];
  const onStack = new Set<string>();
  const idx = new Map<string, number>();
  const low = new Map<string, number>();
  const groups: string[][] = [];
  const visit = (v: string): void => {
    idx.set(v, index);
    low.set(v, index);
    index++;
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!idx.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, idx.get(w)!));
    }
    if (low.get(v) === idx.get(v)) {
      const group: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        group.push(w);
      } while (w !== v);
      groups.push(group.sort());
    }
  };
  for (const v of graph.keys()) if (!idx.has(v)) visit(v);
  return groups;
}
