import { spawnSync } from "node:child_process";
import { copyFile, mkdir, mkdtemp, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { VERIFY_MD_TOOLS } from "../../src/bundle/verify-md-shell.js";

/*
 * Runs a bundle's VERIFY.md the way an auditor would: every ```sh block, in order, by /bin/sh in
 * the unzipped folder, with a PATH that holds only the tools VERIFY.md says it needs (openssl,
 * sha256sum and coreutils; the shell's own built-ins aside). No sealgate code takes part.
 */

export const TOOLS = VERIFY_MD_TOOLS;

export function shellBlocks(markdown: string): string[] {
  return [...markdown.matchAll(/^```sh\n([\s\S]*?)^```$/gm)].map((m) => m[1]!);
}

function which(tool: string): string {
  const r = spawnSync("sh", ["-c", `command -v ${tool}`], { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`${tool} is not installed`);
  return r.stdout.trim();
}

/** `sh -e -c script` in `cwd` with only `bin` on the PATH. */
export const shell = (cwd: string, bin: string, script: string, input?: Buffer) =>
  spawnSync("/bin/sh", ["-e", "-c", script], {
    cwd,
    env: { PATH: bin, LC_ALL: "C" },
    encoding: "utf8",
    ...(input ? { input } : {}),
  });

export interface BlockRun {
  /** The block's text. */
  block: string;
  code: number | null;
  out: string;
}

/** Unzip `files` into a fresh folder with the organisation's root beside them. */
export async function unzipped(files: ReadonlyMap<string, Uint8Array>, orgRoot: string) {
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
  return { bin, bundle };
}

/**
 * Run VERIFY.md: its first block (the helpers), then each later block in its own `sh -e` after
 * the helpers, in order and in one folder, as pasting them into one terminal would; every block
 * runs even after one fails, so a test can tell which step caught what.
 */
export async function runVerifyMd(
  files: ReadonlyMap<string, Uint8Array>,
  orgRoot: string,
  /** Run only the later blocks this accepts (the helpers always run). */
  only: (block: string) => boolean = () => true,
) {
  const { bin, bundle } = await unzipped(files, orgRoot);
  const [helpers = "", ...steps] = shellBlocks(Buffer.from(files.get("VERIFY.md")!).toString("utf8"));
  const runs: BlockRun[] = [helpers, ...steps.filter(only)].map((block, i) => {
    const r = shell(bundle, bin, i === 0 ? block : `${helpers}\n${block}`);
    return { block, code: r.status, out: r.stdout + r.stderr };
  });
  return {
    code: runs.every((r) => r.code === 0) ? 0 : 1,
    out: runs.map((r) => r.out).join(""),
    runs,
    blocks: runs.length,
  };
}
