import { type ChildProcess, execFile, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { createWriteStream } from "node:fs";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { promisify } from "node:util";
import { ensureVenv, PYTHON_ENV, REPO_ROOT, VENV_DIR } from "./venv.js";

const execFileAsync = promisify(execFile);

export type Backend = "sqlite" | "postgres";

export interface MlflowServer {
  url: string;
  dir: string;
  backend: Backend;
  /** Environment the server runs with (webhook settings, auth app settings). */
  env: Record<string, string>;
  /** Admin credentials when started with the basic-auth app. */
  admin?: { username: string; password: string };
  stop(): Promise<void>;
}

export interface StartOptions {
  backend?: Backend;
  /** `basic-auth` runs MLflow's own auth app (Basic only); the admin password is random. */
  appName?: "basic-auth";
  log?: (msg: string) => void;
  /**
   * Called once the server process exists, before it is healthy (that takes seconds): register
   * `stop` for cleanup here, so a Ctrl-C during start-up cannot leave the server running.
   */
  spawned?: (server: { url: string; pid: number | undefined; stop(): Promise<void> }) => void;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const addr = srv.address();
      srv.close(() => resolve(typeof addr === "object" && addr ? addr.port : 0));
    });
  });
}

/** Start a real `mlflow server` from the venv on a free loopback port and wait for /health. */
export async function startMlflowServer(opts: StartOptions = {}): Promise<MlflowServer> {
  const python = await ensureVenv(opts.log);
  const backend = opts.backend ?? "sqlite";
  const dir = await mkdtemp(join(tmpdir(), "sealgate-mlflow-"));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  let dropDatabase = async () => {};
  let storeUri = `sqlite:///${dir}/mlflow.db`;
  if (backend === "postgres") {
    const db = `sealgate_test_${randomBytes(6).toString("hex")}`;
    await pg(python, `CREATE DATABASE ${db}`);
    storeUri = `postgresql+psycopg2://postgres@127.0.0.1:5432/${db}`;
    dropDatabase = () => pg(python, `DROP DATABASE IF EXISTS ${db} WITH (FORCE)`);
  }
  const env: Record<string, string> = {
    // Fernet key: 32 random bytes, url-safe base64 with padding.
    MLFLOW_WEBHOOK_SECRET_ENCRYPTION_KEY: `${randomBytes(32).toString("base64url")}=`,
    MLFLOW_WEBHOOK_ALLOWED_SCHEMES: "http,https",
    MLFLOW_WEBHOOK_ALLOW_PRIVATE_IPS: "true",
    MLFLOW_WEBHOOK_CACHE_TTL: "1",
  };
  const args = [
    "server",
    "--backend-store-uri",
    storeUri,
    "--artifacts-destination",
    join(dir, "mlartifacts"),
    "--host",
    "127.0.0.1",
    "--port",
    String(port),
    "--workers",
    "1",
  ];
  let admin: MlflowServer["admin"];
  if (opts.appName) {
    admin = { username: "admin", password: `Sg-${randomBytes(12).toString("hex")}-1a` };
    args.push("--app-name", opts.appName);
    const ini = join(dir, "basic_auth.ini");
    await writeFile(
      ini,
      `[mlflow]\ndefault_permission = READ\ndatabase_uri = sqlite:///${dir}/basic_auth.db\nadmin_username = ${admin.username}\nadmin_password = ${admin.password}\nauthorization_function = mlflow.server.auth:authenticate_request_basic_auth\n`,
    );
    env.MLFLOW_AUTH_CONFIG_PATH = ini;
    env.MLFLOW_FLASK_SERVER_SECRET_KEY = randomBytes(16).toString("hex");
  }
  const logFile = createWriteStream(join(dir, "server.log"));
  const child: ChildProcess = spawn(join(VENV_DIR, "bin/mlflow"), args, {
    cwd: dir,
    env: { ...process.env, ...PYTHON_ENV, ...env, PYTHONUNBUFFERED: "1" },
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  child.stdout?.pipe(logFile);
  child.stderr?.pipe(logFile);
  const stopServer = async () => {
    if (child.exitCode === null && child.pid) {
      try {
        process.kill(-child.pid, "SIGTERM");
      } catch {}
      for (let i = 0; i < 50 && child.exitCode === null; i++) await sleep(100);
      if (child.exitCode === null) {
        try {
          process.kill(-child.pid, "SIGKILL");
        } catch {}
      }
    }
    await dropDatabase().catch(() => {});
    await rm(dir, { recursive: true, force: true });
  };
  let stopping: Promise<void> | undefined;
  // Once only: the caller's cleanup and a failed start may both ask.
  const stop = () => (stopping ??= stopServer());
  opts.spawned?.({ url, pid: child.pid, stop });
  try {
    await waitHealthy(url, child, join(dir, "server.log"));
  } catch (err) {
    await stop();
    throw err;
  }
  return { url, dir, backend, env, stop, ...(admin ? { admin } : {}) };
}

async function waitHealthy(url: string, child: ChildProcess, log: string) {
  const deadline = Date.now() + 180_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) {
      throw new Error(
        `mlflow server exited with ${child.exitCode}:\n${(await readFile(log, "utf8")).slice(-3000)}`,
      );
    }
    try {
      const res = await fetch(`${url}/health`);
      if (res.ok && (await res.text()).trim() === "OK") return;
    } catch {}
    await sleep(250);
  }
  throw new Error(
    `mlflow server at ${url} not healthy after 180 s:\n${(await readFile(log, "utf8")).slice(-3000)}`,
  );
}

async function pg(python: string, sql: string) {
  const code = `import psycopg2\nc = psycopg2.connect(host="127.0.0.1", port=5432, user="postgres", dbname="postgres")\nc.autocommit = True\nc.cursor().execute(${JSON.stringify(sql)})\n`;
  await execFileAsync(python, ["-c", code]);
}

export interface SeedManifest {
  models: Record<string, Record<string, unknown>>;
}

/** Seed through the official MLflow Python client (test/mlflow/seed.py). */
export async function seedMlflow(
  server: MlflowServer,
  opts: { bigMb?: number; many?: number } = {},
): Promise<SeedManifest> {
  const python = await ensureVenv();
  const work = join(server.dir, "seed");
  const { stdout } = await execFileAsync(
    python,
    [
      join(REPO_ROOT, "test/mlflow/seed.py"),
      server.url,
      work,
      "--big-mb",
      String(opts.bigMb ?? 200),
      "--many",
      String(opts.many ?? 260),
    ],
    {
      maxBuffer: 64 << 20,
      timeout: 15 * 60_000,
      env: { ...process.env, ...PYTHON_ENV, MLFLOW_TRACKING_URI: server.url },
    },
  );
  const line = stdout.split("\n").find((l) => l.startsWith("SEED-MANIFEST "));
  if (!line) throw new Error(`seed.py printed no manifest:\n${stdout.slice(-2000)}`);
  // The seed's working copies (200 MB) are no longer needed once uploaded.
  await rm(work, { recursive: true, force: true });
  return JSON.parse(line.slice("SEED-MANIFEST ".length)) as SeedManifest;
}
