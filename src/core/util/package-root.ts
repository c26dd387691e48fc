import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";

/*
 * The folder of the installed sealgate package (or the checkout), found from this file's own
 * place under src/ or dist/src/ by its package.json alone: an installed package ships no test/,
 * so nothing the runtime needs may be looked up by a test file.
 */

function findPackageRoot(from: string): string {
  for (let dir = from; dir !== dirname(dir); dir = dirname(dir)) {
    const manifest = join(dir, "package.json");
    if (!existsSync(manifest)) continue;
    try {
      if ((JSON.parse(readFileSync(manifest, "utf8")) as { name?: unknown }).name === "sealgate") return dir;
    } catch {
      // Not sealgate's manifest: keep looking above it.
    }
  }
  throw new Error(`cannot find sealgate's package.json above ${from}`);
}

export const PACKAGE_ROOT = findPackageRoot(import.meta.dirname);
