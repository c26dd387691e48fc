#!/usr/bin/env node
// Moves files and folders with `git mv` and rewrites every path that named them, so a folder
// rename is one mechanical commit:
//   - relative string literals ("../sign/jws.js", "../../dist/src/cli/main.js") in .ts/.mts/.mjs
//     files, resolved from the file's old place and written from its new one;
//   - repo-relative mentions ("src/crypto/sign/jws.ts", "dist/src/crypto/sign/") in code, JSON, YAML and Markdown.
// It prints the lines it cannot rewrite safely (path segments joined at run time) for a hand check.
// Usage: node scripts/arch/move.mjs moves.txt      (one "from to" pair per line, # comments)
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join, posix } from "node:path";
import process from "node:process";

const root = execFileSync("git", ["rev-parse", "--show-toplevel"], { encoding: "utf8" }).trim();
const pairs = readFileSync(process.argv[2], "utf8")
  .split("\n")
  .map((l) => l.replace(/#.*/, "").trim())
  .filter(Boolean)
  .map((l) => l.split(/\s+/));

const tracked = execFileSync("git", ["ls-files"], { cwd: root, encoding: "utf8" })
  .split("\n")
  .filter(Boolean);

/** Where a repo-relative path goes: the longest matching pair wins; .js stands for its .ts source. */
function moved(p) {
  let best;
  for (const [from, to] of pairs) {
    const strip = (x) => x.replace(/\.(ts|js)$/, "");
    if (p === from || strip(p) === strip(from)) {
      const ext = p.match(/\.(ts|js)$/)?.[0] ?? "";
      const target = strip(to) + ext;
      if (!best || from.length > best.len) best = { len: from.length, path: target };
    } else if (p.startsWith(from + "/")) {
      if (!best || from.length > best.len) best = { len: from.length, path: to + p.slice(from.length) };
    }
  }
  return best?.path ?? p;
}
function movedDist(p) {
  return p.startsWith("dist/") ? "dist/" + moved(p.slice(5)) : moved(p);
}

const known = new Set(tracked);
for (const f of tracked) for (let d = posix.dirname(f); d !== "."; d = posix.dirname(d)) known.add(d);
/** A literal names a repo path only when that path exists (or will be built into dist/). */
function names(p) {
  const bare = p.replace(/\/$/, "");
  return (
    bare.startsWith("dist/") ||
    known.has(bare) ||
    known.has(bare.replace(/\.js$/, ".ts")) ||
    known.has(bare.replace(/\.js$/, ".mts"))
  );
}

const code = /\.(ts|mts|mjs|cts|js)$/;
const text = /\.(ts|mts|mjs|cts|js|json|ya?ml|md|sh)$|^\.ci\/run$/;
const manual = [];

// 1. Rewrite contents, computed from the old layout, before anything moves.
const rewritten = new Map();
for (const file of tracked) {
  if (!text.test(file) || file.startsWith("node_modules/") || file === "package-lock.json") continue;
  const before = readFileSync(join(root, file), "utf8");
  const newFile = moved(file);
  let after = before;
  if (code.test(file)) {
    after = after.replace(/(["'`])(\.\.?\/[^"'`\n$]*)\1/g, (all, q, spec) => {
      const target = posix.normalize(posix.join(posix.dirname(file), spec));
      // "./dist/src/cli/main.js" given to a child process names a path from the repo root.
      const fromRoot = spec.startsWith("./") ? spec.slice(2) : undefined;
      if (!names(target) && fromRoot && names(fromRoot)) return q + "./" + movedDist(fromRoot) + q;
      if (!names(target)) {
        if (newFile !== file) manual.push(`${newFile}: ${spec} (names no file from its old place)`);
        return all;
      }
      const newTarget = movedDist(target);
      if (newTarget === target && newFile === file) return all;
      let rel = posix.relative(posix.dirname(newFile), newTarget);
      if (!rel.startsWith(".")) rel = "./" + rel;
      if (spec.endsWith("/") && !rel.endsWith("/")) rel += "/";
      return q + rel + q;
    });
    if (newFile !== file)
      after.split("\n").forEach((line, i) => {
        if (/import\.meta\.(dirname|url|filename)/.test(line) && /["']\.\.?["']|["']\.\.["']/.test(line))
          manual.push(`${newFile}:${i + 1}: ${line.trim()}`);
      });
  }
  // Repo-relative mentions: src/..., connectors/..., test/..., dist/...
  after = after.replace(/(?<![\w.\-/])((?:dist\/)?(?:src|connectors|test)\/[\w./-]*[\w])/g, (all, p) =>
    names(p) ? movedDist(p) : all,
  );
  if (after !== before) rewritten.set(file, after);
}

// 2. Move with git, so history follows the files.
for (const file of tracked) {
  const to = moved(file);
  if (to === file) continue;
  mkdirSync(join(root, dirname(to)), { recursive: true });
  if (existsSync(join(root, to))) throw new Error(`${to} exists already (moving ${file})`);
  execFileSync("git", ["mv", file, to], { cwd: root });
}
for (const [file, content] of rewritten) writeFileSync(join(root, moved(file)), content);

process.stdout.write(
  `moved ${tracked.filter((f) => moved(f) !== f).length} files, rewrote ${rewritten.size}\n`,
);
if (manual.length)
  process.stdout.write("check by hand (paths joined at run time):\n  " + manual.join("\n  ") + "\n");
