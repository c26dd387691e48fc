import { createHash } from "node:crypto";
import { lstat, readdir } from "node:fs/promises";
import { join } from "node:path";
import { z } from "zod";
import { SealgateError } from "../../core/errors.js";
import { HashPool } from "./hash-pool.js";

/*
 * A model's content digest, by the OpenSSF model-signing v1.0 "files" serialization: SHA-256
 * of every file (paths relative to the model root, `/`-separated), files named .git, .github,
 * .gitattributes or .gitignore at the root ignored, symlinks refused; the root digest is
 * SHA-256 over the concatenated raw file digests in path order (compared part by part, by code
 * point), exactly as `model_signing` computes its in-toto subject digest.
 */

export const ModelFile = z.strictObject({
  name: z.string().min(1),
  size: z.int().nonnegative(),
  digest: z.string().regex(/^[0-9a-f]{64}$/),
});

export const ModelManifest = z.strictObject({
  type: z.literal("sealgate.model-manifest/1"),
  scheme: z.literal("openssf-model-signing/v1.0:files:sha256"),
  root: z.string().regex(/^sha256:[0-9a-f]{64}$/),
  files: z.array(ModelFile),
});
export type ModelManifest = z.infer<typeof ModelManifest>;
export type ModelFile = z.infer<typeof ModelFile>;

const IGNORED_AT_ROOT = new Set([".git", ".github", ".gitattributes", ".gitignore"]);

export const isIgnored = (relPath: string) => IGNORED_AT_ROOT.has(relPath.split("/")[0]!);

/** Order of model_signing's manifest: path parts compared in turn, each by code point (UTF-8 bytes). */
export function omsCompare(a: string, b: string): number {
  const pa = a.split("/");
  const pb = b.split("/");
  for (let i = 0; i < Math.min(pa.length, pb.length); i++) {
    const c = Buffer.compare(Buffer.from(pa[i]!, "utf8"), Buffer.from(pb[i]!, "utf8"));
    if (c !== 0) return c;
  }
  return pa.length - pb.length;
}

export function buildManifest(files: ModelFile[]): ModelManifest {
  const sorted = [...files].sort((x, y) => omsCompare(x.name, y.name));
  const h = createHash("sha256");
  for (const f of sorted) h.update(Buffer.from(f.digest, "hex"));
  return {
    type: "sealgate.model-manifest/1",
    scheme: "openssf-model-signing/v1.0:files:sha256",
    root: `sha256:${h.digest("hex")}`,
    files: sorted,
  };
}

async function walk(dir: string, rel: string, out: string[]): Promise<void> {
  for (const e of await readdir(join(dir, rel), { withFileTypes: true })) {
    const path = rel ? `${rel}/${e.name}` : e.name;
    if (isIgnored(path)) continue;
    const st = await lstat(join(dir, path));
    if (st.isSymbolicLink()) {
      throw new SealgateError(
        "MODEL_UNSUPPORTED",
        `${join(dir, path)} is a symbolic link; model files must be regular files`,
      );
    }
    if (st.isDirectory()) await walk(dir, path, out);
    else if (st.isFile()) out.push(path);
  }
}

/** Hash a model directory on disk, files in parallel on worker threads. */
export async function hashLocalModel(
  dir: string,
  opts: { pool?: HashPool; onFile?: (f: ModelFile) => void } = {},
) {
  const st = await lstat(dir).catch(() => null);
  if (!st?.isDirectory()) throw new SealgateError("USAGE", `${dir} is not a directory`);
  const paths: string[] = [];
  await walk(dir, "", paths);
  const pool = opts.pool ?? new HashPool();
  try {
    const files = await Promise.all(
      paths.map(async (name) => {
        const { digest, size } = await pool.hashFile(join(dir, name));
        const f = { name, size, digest };
        opts.onFile?.(f);
        return f;
      }),
    );
    return buildManifest(files);
  } finally {
    if (!opts.pool) await pool.close();
  }
}
