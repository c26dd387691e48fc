import { readFile, rm, writeFile } from "node:fs/promises";
import { isAbsolute, relative } from "node:path";
import { parse as parseYaml } from "yaml";
import { REPO_ROOT } from "./venv.js";

/*
 * `npm run demo -- --keep`: leave the demo's servers up so a new user can try the CLI on them.
 * The config names its secrets only as ${ENV} references that live in the demo's own process,
 * so they are written to a 0600 .env beside it; Ctrl-C or SIGTERM then stops everything the
 * demo started and exits 0. Split from demo.ts so it is tested without the demo's minutes.
 */

export type Say = (msg: string) => void;

/** Paths as a user at the repo root types them: repo-relative when inside it. */
export function shown(path: string, root = REPO_ROOT): string {
  const rel = relative(root, path);
  return rel && !rel.startsWith("..") && !isAbsolute(rel) ? rel : path;
}

/** Everything the demo started, stopped once, newest first, each whatever the others do. */
export class Running {
  private readonly services: { name: string; url: string; stop: () => Promise<void> }[] = [];
  private stopping: Promise<void> | undefined;

  add(name: string, url: string, stop: () => Promise<void>): void {
    this.services.push({ name, url, stop });
  }

  list(): { name: string; url: string }[] {
    return this.services.map(({ name, url }) => ({ name, url }));
  }

  stopAll(say: Say): Promise<void> {
    this.stopping ??= (async () => {
      for (const s of [...this.services].reverse()) {
        await s.stop().then(
          () => say(`    stopped ${s.name} (${s.url})`),
          (err: unknown) => say(`    could not stop ${s.name}: ${String(err)}`),
        );
      }
    })();
    return this.stopping;
  }
}

/** The first SIGINT or SIGTERM from now on. While the handlers are installed, neither kills the process. */
export function stopSignal(): { received: Promise<NodeJS.Signals>; dispose(): void } {
  let handler: (sig: NodeJS.Signals) => void = () => {};
  const received = new Promise<NodeJS.Signals>((resolve) => (handler = resolve));
  process.on("SIGINT", handler).on("SIGTERM", handler);
  return { received, dispose: () => void process.off("SIGINT", handler).off("SIGTERM", handler) };
}

/** Names of the environment variables a config file references as `${NAME}`, in order of appearance. */
export async function referencedEnv(configPath: string): Promise<string[]> {
  const names = new Set<string>();
  const walk = (v: unknown): void => {
    if (typeof v === "string") {
      const m = /^\$\{([A-Za-z_][A-Za-z0-9_]*)\}$/.exec(v);
      if (m) names.add(m[1]!);
    } else if (v && typeof v === "object") Object.values(v).forEach(walk);
  };
  walk(parseYaml(await readFile(configPath, "utf8")));
  return [...names];
}

const shellQuote = (v: string) => `'${v.replaceAll("'", `'\\''`)}'`;

/**
 * Write `envFile` (mode 0600): one `NAME='value'` line for each variable `configPath` references,
 * with its value from `env`. A referenced variable that is unset is an error, not a blank line.
 */
export async function writeEnvFile(
  envFile: string,
  configPath: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<string[]> {
  const names = await referencedEnv(configPath);
  const missing = names.filter((n) => !env[n]);
  if (missing.length) throw new Error(`${configPath} references unset variable(s): ${missing.join(", ")}`);
  const lines = names.map((n) => `${n}=${shellQuote(env[n]!)}`);
  const text = `# Secrets referenced by ${shown(configPath)}, valid while \`npm run demo -- --keep\` runs.\n# Use: set -a; . ${shown(envFile)}; set +a\n${lines.join("\n")}\n`;
  // Created afresh so the mode applies even if an older file exists.
  await rm(envFile, { force: true });
  await writeFile(envFile, text, { mode: 0o600, flag: "wx" });
  return names;
}

export interface KeepOptions {
  config: string;
  envFile: string;
  running: Running;
  /** Full command lines to try, as typed at the repo root. */
  commands: string[];
  signal: Promise<NodeJS.Signals>;
  say: Say;
}

/** Write the .env, say how to use it, wait for Ctrl-C or SIGTERM, then stop everything. */
export async function keepUntilSignalled(o: KeepOptions): Promise<NodeJS.Signals> {
  await writeEnvFile(o.envFile, o.config);
  o.say(keepInstructions(o));
  // Signal handlers alone do not keep Node alive; this does, until the signal.
  const hold = setInterval(() => {}, 1 << 30);
  try {
    const sig = await o.signal;
    o.say(`${sig}: stopping everything the demo started`);
    await o.running.stopAll(o.say);
    return sig;
  } finally {
    clearInterval(hold);
  }
}

export interface LifecycleOptions {
  keep: boolean;
  envFile: string;
  say: Say;
  /** The demo itself: registers what it starts in `running`, returns what --keep prints. */
  run(running: Running): Promise<{ config: string; commands: string[] }>;
}

/**
 * The demo's life: run it; with --keep, stay up until a signal; stop everything either way.
 * A signal before the keep phase interrupts the run: everything started so far is stopped and
 * the process exits 130, as an interrupted command does. In the keep phase it is the way out: 0.
 */
export async function demoLifecycle(o: LifecycleOptions): Promise<void> {
  const running = new Running();
  const signal = stopSignal();
  let keeping = false;
  void signal.received.then(async (sig) => {
    if (keeping) return;
    o.say(`${sig}: the demo was interrupted; stopping everything it started`);
    await running.stopAll(o.say);
    process.exit(130);
  });
  try {
    const { config, commands } = await o.run(running);
    if (!o.keep) return;
    keeping = true;
    await keepUntilSignalled({
      config,
      envFile: o.envFile,
      commands,
      running,
      signal: signal.received,
      say: o.say,
    });
  } finally {
    await running.stopAll(o.say);
    signal.dispose();
  }
}

export function keepInstructions(
  o: Pick<KeepOptions, "config" | "envFile" | "running" | "commands">,
): string {
  const width = Math.max(...o.running.list().map((s) => s.name.length));
  return [
    "still running (--keep), until Ctrl-C or SIGTERM:",
    ...o.running.list().map((s) => `    ${s.name.padEnd(width)}  ${s.url}`),
    `the config ${shown(o.config)} reads its secrets from the environment; in another shell:`,
    `    cd ${REPO_ROOT}`,
    `    set -a; . ${shown(o.envFile)}; set +a`,
    "then try:",
    ...o.commands.map((c) => `    ${c}`),
  ].join("\n");
}

/** The CLI as a user at the repo root runs it after `npm ci && npm run demo`. */
export const CLI = "node dist/src/cli/main.js";

export interface DemoPaths {
  config: string;
  store: string;
  ca: string;
  intermediates: string;
  bundle: string;
}

/** Commands worth trying against the kept demo, with its own paths. */
export function tryCommands(
  p: DemoPaths,
  gate: { model: string; version: string; target: string },
): string[] {
  const config = shown(p.config);
  return [
    `${CLI} gate --config ${config} --model ${gate.model} --version ${gate.version} --target ${gate.target}`,
    `${CLI} status --config ${config}`,
    `${CLI} outbox list --config ${config}`,
    `${CLI} verify ${shown(p.bundle)} --ca ${shown(p.ca)}`,
    `${CLI} verify --store ${shown(p.store)} --ca ${shown(p.ca)} --intermediates ${shown(p.intermediates)}`,
    `${CLI} config check --config ${config} --remote`,
  ];
}
