import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { cp, mkdir, mkdtemp, readdir, readFile, rm, symlink } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join, relative, resolve } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

/*
 * The runtime ships without its test harness: a fresh build of tsconfig.json (in a temporary
 * folder, so a stale dist/ proves nothing either way) holds no test/ code, imports no
 * devDependency, and the package npm would publish from it runs on its own files.
 */

const run = promisify(execFile);
const ROOT = join(import.meta.dirname, "../..");
/** What a package's files are copied as: its manifest, the sources npm may pick from, a fresh build. */
const STAGED = ["package.json", "README.md", "LICENSE", "connectors", "schemas", "config"];

describe("dist/", () => {
  let pkg: string;
  let packed: string[];

  beforeAll(async () => {
    pkg = await mkdtemp(join(tmpdir(), "sealgate-dist-"));
    await run(
      process.execPath,
      [join(ROOT, "node_modules/typescript/bin/tsc"), "-p", "tsconfig.json", "--outDir", join(pkg, "dist")],
      { cwd: ROOT, maxBuffer: 16 << 20 },
    );
    for (const p of STAGED) await cp(join(ROOT, p), join(pkg, p), { recursive: true });
    const { stdout } = await run("npm", ["pack", "--dry-run", "--json", "--ignore-scripts"], {
      cwd: pkg,
      maxBuffer: 16 << 20,
    });
    packed = (JSON.parse(stdout) as { files: { path: string }[] }[])[0]!.files.map((f) => f.path);
  }, 600_000);
  afterAll(() => rm(pkg, { recursive: true, force: true }));

  it("holds no test/ code", () => {
    expect(existsSync(join(pkg, "dist/test"))).toBe(false);
  });

  it("imports no test harness: no vitest, fast-check, other devDependency or test/ path", async () => {
    const manifest = JSON.parse(await readFile(join(ROOT, "package.json"), "utf8")) as {
      devDependencies: Record<string, string>;
    };
    const dev = Object.keys(manifest.devDependencies);
    expect(dev).toEqual(expect.arrayContaining(["vitest", "fast-check"]));
    const offending: string[] = [];
    for (const file of await jsFiles(join(pkg, "dist"))) {
      for (const spec of importsOf(await readFile(file, "utf8"))) {
        const bad =
          dev.some((d) => spec === d || spec.startsWith(`${d}/`)) ||
          spec.includes("/test/") ||
          (spec.startsWith(".") && /(^|\/)test\//.test(relative(pkg, resolve(dirname(file), spec))));
        if (bad) offending.push(`${relative(pkg, file)} imports ${spec}`);
      }
    }
    expect(offending).toEqual([]);
  });

  it("loads no simulator with the connector registry or the CLI (`sealgate simulate` imports its own)", async () => {
    for (const entry of ["dist/connectors/index.js", "dist/src/cli/main.js"]) {
      const reached = await staticGraph(join(pkg, entry));
      expect(reached.filter((f) => /\/simulator(s\.js|\/)/.test(f)).map((f) => relative(pkg, f))).toEqual([]);
      expect(reached.length).toBeGreaterThan(3);
    }
  });

  it("packs nothing from test/ and no connector-kit harness file", () => {
    expect(packed).toContain("dist/src/cli/main.js");
    const harness = packed.filter(
      (p) =>
        /(^|\/)test\//.test(p) ||
        /\.test\.js/.test(p) ||
        /(kit|kit-crash|remote-check|push-child)\.js/.test(p),
    );
    expect(harness).toEqual([]);
  });

  it("runs `sealgate --help` from the packed files alone", async () => {
    const install = join(pkg, "installed");
    for (const file of packed.filter((p) => !/(^|\/)test\//.test(p))) {
      await mkdir(dirname(join(install, file)), { recursive: true });
      await cp(join(pkg, file), join(install, file));
    }
    await symlink(join(ROOT, "node_modules"), join(install, "node_modules"));
    const help = await run(process.execPath, [join(install, "dist/src/cli/main.js"), "--help"], {
      cwd: install,
    });
    expect(help.stdout).toContain("Usage: sealgate");
    // The dev tools ship too: importing them must not need a checkout.
    await run(process.execPath, ["--input-type=module", "-e", 'await import("./dist/src/dev/venv.js")'], {
      cwd: install,
    });
  });
});

async function jsFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries.filter((e) => e.isFile() && e.name.endsWith(".js")).map((e) => join(e.parentPath, e.name));
}

/** The files an entry loads at start: relative static imports, followed (not import()). */
async function staticGraph(entry: string): Promise<string[]> {
  const seen = new Set<string>([entry]);
  for (const file of seen) {
    const js = await readFile(file, "utf8");
    for (const spec of importsOf(js, { dynamic: false }))
      if (spec.startsWith(".")) seen.add(resolve(dirname(file), spec));
  }
  return [...seen];
}

/** Every module specifier of an emitted ES module: static imports, re-exports, dynamic import(). */
function importsOf(js: string, { dynamic = true } = {}): string[] {
  const specs: string[] = [];
  for (const m of js.matchAll(/(?:^|[\s;])(?:import|export)\b[^"'`;]*?\bfrom\s*["']([^"']+)["']/g))
    specs.push(m[1]!);
  for (const m of js.matchAll(/(?:^|[\s;])import\s*["']([^"']+)["']/g)) specs.push(m[1]!);
  if (dynamic) for (const m of js.matchAll(/\bimport\(\s*["']([^"']+)["']\s*\)/g)) specs.push(m[1]!);
  return specs;
}
