import { type ChildProcess, execFile, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { chmod, mkdtemp, readFile, stat, writeFile } from "node:fs/promises";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { promisify } from "node:util";
import { afterEach, beforeAll, describe, expect, inject, it } from "vitest";
import { referencedEnv, writeEnvFile } from "../../src/dev/keep.js";
import { REPO_ROOT } from "../../src/dev/venv.js";

/*
 * `npm run demo -- --keep` without the demo's minutes: the same lifecycle (src/dev/keep.ts)
 * runs in a child around real simulators. The .env it writes must hold exactly the secrets the
 * config references, readable by its owner only, and make the CLI work once sourced; Ctrl-C or
 * SIGTERM must close every port it opened and exit 0.
 */

const CHILD = join(REPO_ROOT, "test/dev/keep-child.mjs");
const MAIN = join(REPO_ROOT, "dist/src/cli/main.js");
const run = promisify(execFile);
// Nothing of this process's own simulators may leak into the shells the test starts.
const cleanEnv = Object.fromEntries(
  Object.entries(process.env).filter(([k]) => !k.startsWith("SEALGATE_SIM_")),
);

const children: ChildProcess[] = [];
// A failed assertion must not leave a child (and its listening simulators) behind.
afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
});

/** The child as `node CHILD ...`, or inside `script` (a shell command naming the demo) in its own process group. */
function startChild(dir: string, mode: "keep" | "hang", script?: string) {
  // Only the config check needs a live MLflow; the lifecycle tests also run with SEALGATE_TEST_NO_MLFLOW=1.
  const args = [CHILD, dir, inject("mlflow")?.url ?? "http://127.0.0.1:9", mode];
  const proc: ChildProcess = script
    ? spawn(
        "sh",
        ["-c", script.replace("node dist/src/dev/demo.js", `"${process.execPath}" ${args.join(" ")}`)],
        {
          env: cleanEnv,
          stdio: ["ignore", "pipe", "pipe"],
          detached: true,
        },
      )
    : spawn(process.execPath, args, { env: cleanEnv, stdio: ["ignore", "pipe", "pipe"] });
  children.push(proc);
  let out = "";
  let err = "";
  proc.stdout!.on("data", (c: Buffer) => (out += c.toString()));
  proc.stderr!.on("data", (c: Buffer) => (err += c.toString()));
  const exited = new Promise<number | null>((resolve) => proc.on("close", (code) => resolve(code)));
  const waitFor = async (text: string) => {
    for (let waited = 0; !out.includes(text); waited += 50) {
      if (proc.exitCode !== null || waited > 60_000)
        throw new Error(`child never printed ${text}:\n${out}\n${err}`);
      await sleep(50);
    }
  };
  const urls = () => [...out.matchAll(/simulator +\(?(http:\/\/127\.0\.0\.1:\d+)/g)].map((m) => m[1]!);
  return { proc, exited, waitFor, urls, output: () => out + err };
}

/** Whether anything accepts a TCP connection at the URL's port. */
function listening(url: string): Promise<boolean> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const s = connect(Number(port), hostname);
    s.once("connect", () => (s.destroy(), resolve(true)));
    s.once("error", () => resolve(false));
  });
}

/** `config check --remote --json` in bash, after sourcing the .env when asked, as the demo prints it. */
async function configCheck(dir: string, source: boolean) {
  const script = `${source ? `set -a; . ${dir}/.env; set +a; ` : ""}exec "${process.execPath}" ${MAIN} config check --config ${dir}/sealgate.yaml --remote --json`;
  const res = await run("bash", ["-c", script], { env: cleanEnv }).catch(
    (e: { code: number; stdout: string }) => e,
  );
  return {
    code: "code" in res ? res.code : 0,
    json: JSON.parse(res.stdout) as { ok: boolean; checks: { check: string; ok: boolean; detail: string }[] },
  };
}

describe("writeEnvFile", () => {
  it("writes exactly the referenced variables, mode 0600, and bash reads the values back verbatim", async () => {
    const dir = await mkdtemp(join(tmpdir(), "sealgate-env-"));
    const config = join(dir, "c.yaml");
    await writeFile(
      config,
      '# ${IN_A_COMMENT}\na: { secret: "${SG_A}", file: "file:/x", notRef: "${SG_C} and more" }\nb: ["${SG_B}", "${SG_A}"]\n',
    );
    const env = { SG_A: "it's $HOME `x`\\n", SG_B: "line1\nline2", SG_C: "c", IN_A_COMMENT: "no" };
    const envFile = join(dir, ".env");
    await writeFile(envFile, "stale");
    await chmod(envFile, 0o644);
    expect(await writeEnvFile(envFile, config, env)).toEqual(["SG_A", "SG_B"]);
    expect((await stat(envFile)).mode & 0o777).toBe(0o600);
    const { stdout } = await run(
      "bash",
      ["-c", `set -a; . ${envFile}; set +a; printf '%s|%s|%s' "$SG_A" "$SG_B" "$SG_C"`],
      {
        env: {},
      },
    );
    expect(stdout).toBe(`${env.SG_A}|${env.SG_B}|`);
  });

  it("refuses to write a blank secret for an unset variable", async () => {
    const dir = await mkdtemp(join(tmpdir(), "sealgate-env-"));
    await writeFile(join(dir, "c.yaml"), 'x: "${SG_UNSET_ONE}"\n');
    await expect(writeEnvFile(join(dir, ".env"), join(dir, "c.yaml"), {})).rejects.toThrow(
      /references unset variable\(s\): SG_UNSET_ONE/,
    );
    expect(existsSync(join(dir, ".env"))).toBe(false);
  });
});

describe("demo --keep lifecycle on real simulators", () => {
  beforeAll(() => {
    if (!existsSync(join(REPO_ROOT, "dist/src/dev/keep.js"))) {
      throw new Error("dist/ is missing: run `npm run build` (npm test does) before this test");
    }
  });

  it("writes a .env that makes the printed config work, then Ctrl-C closes every port and exits 0", async () => {
    if (!inject("mlflow"))
      throw new Error("this test checks the config against a live MLflow: unset SEALGATE_TEST_NO_MLFLOW");
    const dir = await mkdtemp(join(tmpdir(), "sealgate-keep-"));
    const child = startChild(dir, "keep");
    await child.waitFor("config check --config");
    const urls = child.urls();
    expect(urls).toHaveLength(3);
    for (const url of urls) expect(await listening(url)).toBe(true);
    expect(child.output()).toContain(`set -a; . ${join(dir, ".env")}; set +a`);

    // Exactly what the config references (read here by plain text), with the values that work.
    const configText = await readFile(join(dir, "sealgate.yaml"), "utf8");
    const refs = [...configText.matchAll(/"\$\{(SEALGATE_SIM_\w+)\}"/g)].map((m) => m[1]!);
    expect(refs).toHaveLength(4);
    expect(await referencedEnv(join(dir, "sealgate.yaml"))).toEqual(refs);
    const envText = await readFile(join(dir, ".env"), "utf8");
    const names = envText
      .split("\n")
      .filter((l) => l && !l.startsWith("#"))
      .map((l) => l.split("=")[0]);
    expect(names).toEqual(refs);
    expect((await stat(join(dir, ".env"))).mode & 0o777).toBe(0o600);

    const without = await configCheck(dir, false);
    expect(without.code).toBe(2);
    // One check per destination (config check names each), every one missing its secret.
    const destinations = without.json.checks.filter((c) => c.check.startsWith("destinations."));
    expect(destinations.length).toBeGreaterThan(0);
    for (const d of destinations)
      expect(d.detail).toMatch(/environment variable SEALGATE_SIM_\w+ is not set/);
    const sourced = await configCheck(dir, true);
    expect(sourced.json.checks.filter((c) => !c.ok)).toEqual([]);
    expect(sourced.code).toBe(0);

    child.proc.kill("SIGINT");
    expect(await child.exited).toBe(0);
    expect(child.output()).toContain("SIGINT: stopping everything the demo started");
    for (const url of urls) expect(await listening(url)).toBe(false);
  });

  it("stops everything on SIGTERM too, and exits 0", async () => {
    const dir = await mkdtemp(join(tmpdir(), "sealgate-keep-"));
    const child = startChild(dir, "keep");
    await child.waitFor("config check --config");
    const urls = child.urls();
    child.proc.kill("SIGTERM");
    expect(await child.exited).toBe(0);
    for (const url of urls) expect(await listening(url)).toBe(false);
  });

  it("npm run demo's own script passes Ctrl-C's exit 0 through (no shell left to die of the signal)", async () => {
    const pkg = JSON.parse(await readFile(join(REPO_ROOT, "package.json"), "utf8")) as {
      scripts: { demo: string };
    };
    expect(pkg.scripts.demo).toContain("node dist/src/dev/demo.js");
    // Skipped below: building cleans dist/, which the other test files run.
    expect(pkg.scripts.demo).toContain("npm run build");
    const dir = await mkdtemp(join(tmpdir(), "sealgate-keep-"));
    // The script as npm runs it, building skipped: Ctrl-C signals the whole foreground group.
    const child = startChild(dir, "keep", pkg.scripts.demo.replace("npm run build", "true"));
    await child.waitFor("config check --config");
    const urls = child.urls();
    process.kill(-child.proc.pid!, "SIGINT");
    expect(await child.exited).toBe(0);
    for (const url of urls) expect(await listening(url)).toBe(false);
  });

  it("Ctrl-C in the middle of the run stops what has started and exits 130", async () => {
    const dir = await mkdtemp(join(tmpdir(), "sealgate-keep-"));
    const child = startChild(dir, "hang");
    await child.waitFor("running");
    child.proc.kill("SIGINT");
    expect(await child.exited).toBe(130);
    const urls = child.urls();
    expect(urls).toHaveLength(3);
    for (const url of urls) expect(await listening(url)).toBe(false);
    expect(existsSync(join(dir, ".env"))).toBe(false);
  });
});
