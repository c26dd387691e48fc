import { stat } from "node:fs/promises";
import { dirname } from "node:path";

/*
 * What a configured store.path is on disk, worded once for every command that checks it
 * before use (`outbox`, `status`, `config check`): a missing store and a path that cannot be
 * a directory are different answers, and the second names the file in the way.
 */

export interface StorePathInspection {
  /** The path is a directory. */
  exists: boolean;
  /** The path itself when it exists, else the nearest existing directory it would be created in. */
  base: string;
  /** Why the path cannot be a store directory, as a phrase after the path; then `base` means nothing. */
  problem?: string;
}

export async function inspectStorePath(root: string): Promise<StorePathInspection> {
  for (let dir = root; ; dir = dirname(dir)) {
    const found = await stat(dir).catch((err: NodeJS.ErrnoException) => err);
    if (!(found instanceof Error)) {
      if (found.isDirectory()) return { exists: dir === root, base: dir };
      const problem =
        dir === root
          ? "is a file, not a directory; fix store.path"
          : `is under ${dir}, which is a file; fix store.path`;
      return { exists: false, base: dir, problem };
    }
    if (found.code !== "ENOENT" && found.code !== "ENOTDIR")
      return {
        exists: false,
        base: dir,
        problem: `cannot be reached: ${dir} (${found.code}); fix its permissions`,
      };
    if (dirname(dir) === dir) return { exists: false, base: dir };
  }
}
