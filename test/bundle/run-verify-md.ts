import { spawnSync } from "node:child_process";
import { copyFile, mkdir, mkdtemp, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";

/*
 * Runs a bundle's VERIFY.md the way an auditor would: every ```sh block, in order, by /bin/sh in
 * the unzipped folder, with a PATH that holds only the tools VERIFY.md says it needs. No
 * sealgate code takes part.
 */

export const TOOLS = ["openssl", "sha256sum", "xxd", "cat", "head", "tail", "cut", "mkdir"];

export function shellBlocks(markdown: string): string[] {
  return [...markdown.matchAll(/^```sh\n([\s\S]*?)^```$/gm)].map((m) => m[1]!);
}

function which(tool: string): string {
  const r = spawnSync("sh", ["-c", `command -v ${tool}`], { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`${tool} is not installed`);
  return r.stdout.trim();
}

/** Unzip `files` into a fresh folder with the organisation's root beside them, run VERIFY.md. */
export async function runVerifyMd(files: ReadonlyMap<string, Uint8Array>, orgRoot: string) {
  const dir = await mkdtemp(join(tmpdir(), "sealgate-verify-md-"));
  const bin = join(dir, ".bin");
  await mkdir(bin);
  for (const t of TOOLS) await symlink(which(t), join(bin, t));
  const bundle = join(dir, "bundle");
  for (const [path, bytes] of files) {
    await mkdir(dirname(join(bundle, path)), { recursive: true });
    await writeFile(join(bundle, path), bytes);
  }
  await copyFile(orgRoot, join(bundle, "org-root.pem"));
  const script = shellBlocks(Buffer.from(files.get("VERIFY.md")!).toString("utf8")).join("\n");
  const r = spawnSync("/bin/sh", ["-e", "-c", script], {
    cwd: bundle,
    env: { PATH: bin, LC_ALL: "C" },
    encoding: "utf8",
  });
  return {
    code: r.status,
    out: r.stdout + r.stderr,
    blocks: shellBlocks(Buffer.from(files.get("VERIFY.md")!).toString()).length,
  };
}
