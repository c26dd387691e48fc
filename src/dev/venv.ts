import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { acquireLock } from "../evidence/ledger/lock.js";
import { PACKAGE_ROOT } from "../core/util/package-root.js";

const run = promisify(execFile);

/**
 * The checkout this code runs from (as .ts under src/ or as .js under dist/src/). In an
 * installed package, which ships no test/, it is the package's folder: nothing here throws at
 * import, and ensureVenv, the first thing that needs the checkout's test/ side, says so then.
 */
export const REPO_ROOT = PACKAGE_ROOT;
export const REQUIREMENTS = join(REPO_ROOT, "test/mlflow/requirements.txt");
export const VENV_DIR = process.env.SEALGATE_VENV ?? join(REPO_ROOT, ".cache/venv");
export const VENV_PYTHON = join(VENV_DIR, "bin/python");

/**
 * For every Python process that imports mlflow. MLflow's telemetry thread, when it cannot reach
 * its server (always, here), deletes an environment variable while the main thread may be
 * iterating os.environ (requests does, per request), and the seed failed with KeyError
 * '_MLFLOW_TELEMETRY_SESSION_ID'. MLflow turns telemetry off by itself only when CI is set.
 */
export const PYTHON_ENV = { MLFLOW_DISABLE_TELEMETRY: "true" } as const;

/**
 * The Python side of the tests (MLflow server and client, later model-signing, jwcrypto,
 * pyHanko) lives in one venv under .cache/, pinned by test/mlflow/requirements.txt. It is
 * reused while the requirements file is unchanged, and rebuilt when it changes.
 */
export async function ensureVenv(log: (msg: string) => void = () => {}): Promise<string> {
  if (!existsSync(REQUIREMENTS))
    throw new Error(`cannot find the sealgate checkout: ${REPO_ROOT} has no test/mlflow/requirements.txt`);
  const wanted = createHash("sha256")
    .update(await readFile(REQUIREMENTS))
    .digest("hex");
  const stamp = join(VENV_DIR, ".sealgate-requirements.sha256");
  if (existsSync(VENV_PYTHON) && (await readFile(stamp, "utf8").catch(() => "")) === wanted)
    return VENV_PYTHON;
  await mkdir(join(VENV_DIR, ".."), { recursive: true });
  // Parallel test runs and the demo share one venv: one provisions it, the others wait.
  const held = await acquireLock(`${VENV_DIR}.lock`, 60 * 60_000, {
    what: `the test venv ${VENV_DIR} is being provisioned by another process`,
  });
  try {
    // Another process may have finished the work while we waited for the lock.
    if (existsSync(VENV_PYTHON) && (await readFile(stamp, "utf8").catch(() => "")) === wanted)
      return VENV_PYTHON;
    log(
      `provisioning the test venv in ${VENV_DIR} (pip install -r test/mlflow/requirements.txt; minutes on first run)`,
    );
    await rm(VENV_DIR, { recursive: true, force: true });
    const python = process.env.SEALGATE_PYTHON ?? "python3";
    await run(python, ["-m", "venv", VENV_DIR]);
    await run(
      VENV_PYTHON,
      ["-m", "pip", "install", "--quiet", "--disable-pip-version-check", "-r", REQUIREMENTS],
      {
        maxBuffer: 64 << 20,
        timeout: 30 * 60_000,
      },
    );
    await writeFile(stamp, wanted);
    return VENV_PYTHON;
  } finally {
    await held.release();
  }
}
