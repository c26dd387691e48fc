import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { readdir } from "node:fs/promises";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { afterEach, expect, it } from "vitest";
import { REPO_ROOT } from "../../src/dev/venv.js";

/*
 * A Ctrl-C in the seconds MLflow takes to start (before it answers /health) must stop it too:
 * the server runs in its own process group, so the terminal's SIGINT never reaches it, and
 * only the demo's cleanup can. Uses the real venv (SEALGATE_VENV), not the shared test server.
 */

const CHILD = join(REPO_ROOT, "test/dev/mlflow-start-child.mjs");

/** Every live process in the process group `pgid` (the server's, led by its first process). */
async function groupMembers(pgid: number): Promise<number[]> {
  const members: number[] = [];
  for (const entry of await readdir("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      // Fields after the parenthesised command: state, ppid, pgrp.
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const [state, , pgrp] = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      if (Number(pgrp) === pgid && state !== "Z") members.push(Number(entry));
    } catch {
      // Gone while we looked.
    }
  }
  return members;
}

let leftover: number | undefined;
afterEach(() => {
  if (leftover === undefined) return;
  try {
    process.kill(-leftover, "SIGKILL");
  } catch {}
  leftover = undefined;
});

it("SIGINT while MLflow starts leaves no MLflow process behind", async () => {
  const proc = spawn(process.execPath, [CHILD, "/nonexistent/.env"], { stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  proc.stdout.on("data", (c: Buffer) => (out += c.toString()));
  proc.stderr.on("data", (c: Buffer) => (out += c.toString()));
  const exited = new Promise<number | null>((resolve) => proc.on("close", (code) => resolve(code)));
  for (let waited = 0; !/spawned \d+/.test(out); waited += 20) {
    if (proc.exitCode !== null || waited > 60_000) throw new Error(`never spawned MLflow:\n${out}`);
    await sleep(20);
  }
  const pgid = Number(/spawned (\d+)/.exec(out)![1]);
  leftover = pgid;
  expect(await groupMembers(pgid)).not.toEqual([]);
  proc.kill("SIGINT");
  expect(await exited).toBe(130);
  // Interrupted during start-up, as meant: the server had not answered /health yet.
  expect(out).not.toContain("healthy");
  expect(out).toContain("stopped MLflow");
  expect(await groupMembers(pgid)).toEqual([]);
  leftover = undefined;
});
