import { stat } from "node:fs/promises";
import { shown } from "./keep.js";
import { REPO_ROOT } from "./venv.js";

/*
 * The demo's last words: where the things a new user opens next are (the sealed PDFs, the
 * bundles, the CA to verify them with). Each path is checked to exist before it is printed, so
 * the summary cannot point at a file the demo did not write.
 */

export interface Artefacts {
  config: string;
  store: string;
  ca: string;
  intermediates: string;
  bundles: string[];
  pdfs: string[];
}

export async function artefactLines(a: Artefacts, root = REPO_ROOT): Promise<string[]> {
  const rows: [string, string][] = [
    ["config", a.config],
    ["store", a.store],
    ["CA (trust anchor)", a.ca],
    ["intermediates", a.intermediates],
    ...a.bundles.map((b): [string, string] => ["bundle", b]),
    ...a.pdfs.map((p): [string, string] => ["PDF", p]),
  ];
  if (!a.bundles.length || !a.pdfs.length) throw new Error("the demo wrote no bundle or no PDF to point at");
  for (const [what, path] of rows)
    await stat(path).catch(() => {
      throw new Error(`the summary names ${what} ${path}, which does not exist`);
    });
  const width = Math.max(...rows.map(([w]) => w.length));
  return [
    `where everything is (paths relative to ${root}):`,
    ...rows.map(([what, path]) => `    ${what.padEnd(width)}  ${shown(path, root)}`),
  ];
}
