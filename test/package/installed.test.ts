import { execFile } from "node:child_process";
import { cp, mkdir, mkdtemp, rm, symlink } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";

/*
 * What `npm install sealgate` puts on a machine is only the package's `files`: no test/, no
 * src/*.ts. The CLI must run from that alone; it once looked for test/mlflow/requirements.txt
 * at start-up and so failed on every command outside a checkout.
 */

const run = promisify(execFile);
const ROOT = join(import.meta.dirname, "../..");

describe("the installed package", async () => {
  const dir = await mkdtemp(join(tmpdir(), "sealgate-installed-"));
  afterAll(() => rm(dir, { recursive: true, force: true }));
  // The files npm would pack (dist/ is built by `npm test` before vitest runs).
  const { stdout } = await run("npm", ["pack", "--dry-run", "--ignore-scripts", "--json"], {
    cwd: ROOT,
    maxBuffer: 16 << 20,
  });
  const files = (JSON.parse(stdout) as { files: { path: string }[] }[])[0]!.files.map((f) => f.path);
  for (const file of files) {
    await mkdir(dirname(join(dir, file)), { recursive: true });
    await cp(join(ROOT, file), join(dir, file));
  }
  await symlink(join(ROOT, "node_modules"), join(dir, "node_modules"));
  const sealgate = (args: string[], cwd = dir) =>
    run(process.execPath, [join(dir, "dist/src/cli/main.js"), ...args], { cwd }).then(
      (r) => ({ code: 0, ...r }),
      (e: { code: number; stdout: string; stderr: string }) => e,
    );

  it("runs --help, pki init, init and config check from its own files", async () => {
    const help = await sealgate(["--help"]);
    expect(help.stderr).toBe("");
    expect(help.code).toBe(0);
    expect(help.stdout).toContain("Usage: sealgate");
    const work = join(dir, "work");
    await mkdir(work);
    expect((await sealgate(["pki", "init", "--out", "pki"], work)).code).toBe(0);
    const init = await sealgate(["init", "--pki", "pki", "--dir", "cfg"], work);
    expect(init.stderr).toBe("");
    expect(init.code).toBe(0);
    const check = await sealgate(["config", "check", "--config", "cfg/sealgate.yaml", "--json"], work);
    expect(JSON.parse(check.stdout)).toMatchObject({ ok: true });
  });
});
