import { spawnSync } from "node:child_process";
import { mkdir, mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { REPO_ROOT } from "../../src/dev/venv.js";

/*
 * `sealgate --help | head -3` crashed with an unhandled EPIPE stack trace once the reader had
 * gone. The built CLI runs in a shell pipeline whose reader (`true`) exits at once, long before
 * node has loaded, so every write meets a closed pipe. The node side must end quietly, and with
 * the exit code of its command: a closed pipe never turns a failure into success.
 */

const MAIN = join(REPO_ROOT, "dist/src/cli/main.js");

/** Run `sealgate ARGS | READER`: node's exit status, and what it wrote to stderr. */
async function piped(args: string, reader: string, dir: string) {
  const errFile = join(dir, `stderr-${Math.random().toString(36).slice(2)}`);
  const script = `set -o pipefail; "${process.execPath}" "${MAIN}" ${args} 2>"${errFile}" | ${reader}; echo "\${PIPESTATUS[0]}"`;
  const r = spawnSync("bash", ["-c", script], { encoding: "utf8" });
  return { status: Number(r.stdout.trim().split("\n").at(-1)), err: await readFile(errFile, "utf8") };
}

describe("output into a closed pipe", async () => {
  const dir = await mkdtemp(join(tmpdir(), "sealgate-pipe-"));

  it.each([
    ["--help", "true"],
    ["outbox --help", "true"],
  ])("sealgate %s | %s exits 0 without a stack trace", async (args, reader) => {
    const { status, err } = await piped(args, reader, dir);
    expect(err).not.toContain("EPIPE");
    expect(err).not.toMatch(/\n\s+at /);
    expect(status).toBe(0);
  });

  it("sealgate outbox list | true exits 0 without a stack trace", async () => {
    const cfg = join(dir, "outbox.yaml");
    await mkdir(join(dir, "store"));
    await writeFile(
      cfg,
      'mlflow: { trackingUri: "http://127.0.0.1:5000", auth: { type: none } }\nstore: { path: store }\n',
    );
    const { status, err } = await piped(`outbox list --config "${cfg}"`, "true", dir);
    expect(err).toBe("");
    expect(status).toBe(0);
  });

  it("keeps the command's own exit code: a failing config check piped into true still exits 2", async () => {
    const cfg = join(dir, "sealgate.yaml");
    await writeFile(
      cfg,
      'mlflow: { trackingUri: "http://127.0.0.1:5000", auth: { type: none } }\npolicy: missing-policy.yaml\n',
    );
    const { status, err } = await piped(`config check --config "${cfg}"`, "true", dir);
    expect(err).toBe("");
    expect(status).toBe(2);
  });
});
