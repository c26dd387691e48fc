import { type ChildProcess, spawn } from "node:child_process";
import { copyFile, mkdir, mkdtemp, readdir, readFile, utimes, writeFile } from "node:fs/promises";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { SealgateError } from "../../../src/core/errors.js";
import { FileLedger } from "../../../src/evidence/ledger/file-ledger.js";
import { acquireLock, takeoverGuardPath } from "../../../src/evidence/ledger/lock.js";
import { OutboxWriter } from "../../../src/delivery/outbox/outbox.js";
import { cli } from "../../support/cli.js";
import { devPki } from "../../support/pki.js";

/*
 * The store lock (ledger and outboxes) must have one holder at most, whatever the timing:
 * processes racing over a lock left by a dead process, a SIGKILLed holder, a lock file still
 * being written. A refusal is the operator's to resolve (exit 2) and says who holds the lock
 * and how to check it. Children run dist/ (built before testing), each in its own process.
 */

const SUPPORT = join(import.meta.dirname, "../../support");
const DEAD_PID = 2 ** 22 + 7; // above Linux's largest pid_max: never a running process

const tmp = () => mkdtemp(join(tmpdir(), "sealgate-lock-"));

function start(script: string, args: string[]): ChildProcess {
  return spawn(process.execPath, [join(SUPPORT, script), ...args], { stdio: ["pipe", "pipe", "inherit"] });
}

/** Resolves when the child prints `line` (rejects if it exits first). */
function printed(child: ChildProcess, line: string): Promise<void> {
  return new Promise((resolve, reject) => {
    let out = "";
    child.stdout!.on("data", (d: Buffer) => {
      out += d.toString();
      if (out.split("\n").includes(line)) resolve();
    });
    child.once("exit", (code) => reject(new Error(`child exited (${code}) before printing ${line}`)));
  });
}

const exited = (child: ChildProcess) =>
  new Promise<number | null>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve(child.exitCode);
    else child.once("exit", (code) => resolve(code));
  });

/** A lock left behind by a process that died, in each form one can find on disk. */
async function staleLock(path: string, round: number) {
  const dead = { host: hostname(), pid: DEAD_PID, started: "1" };
  if (round % 3 === 0) return writeFile(path, JSON.stringify(dead)); // an older sealgate's record
  if (round % 3 === 1)
    return writeFile(path, JSON.stringify({ ...dead, since: "2026-01-01T00:00:00.000Z", nonce: "x" }));
  await writeFile(path, ""); // died between create and write, long ago
  const old = new Date(Date.now() - 3_600_000);
  await utimes(path, old, old);
}

interface Round {
  held: [bigint, bigint][];
  refused: string[];
  lines: number;
  leftover: string[];
}

/** Resolves at the next `line` the child prints after now. */
function next(child: ChildProcess, line: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onExit = (code: number | null) => reject(new Error(`child exited (${code}) before ${line}`));
    const onData = (d: Buffer) => {
      if (!d.toString().split("\n").includes(line)) return;
      child.stdout!.off("data", onData);
      child.off("exit", onExit);
      resolve();
    };
    child.stdout!.on("data", onData);
    child.once("exit", onExit);
  });
}

/** The 8 racers, given a stale lock at once; 4 give up at once when refused, 4 wait. */
async function race(racers: ChildProcess[], round: number): Promise<Round> {
  const dir = await tmp();
  const path = join(dir, "LOCK");
  const log = join(await tmp(), "log");
  await writeFile(log, "");
  await staleLock(path, round);
  const done = racers.map((r) => next(r, "done"));
  for (const r of racers) r.stdin!.write(`${path} ${log}\n`);
  await Promise.all(done);
  const lines = (await readFile(log, "utf8")).split("\n").filter(Boolean);
  const held = lines
    .map((l) => l.split(" "))
    .filter((f) => f[1] === "held")
    .map((f) => [BigInt(f[2]!), BigInt(f[3]!)] as [bigint, bigint])
    .sort((a, b) => (a[0] < b[0] ? -1 : 1));
  const refused = lines.filter((l) => l.split(" ")[1] === "refused").map((l) => l.split(" ")[2]!);
  return { held, refused, lines: lines.length, leftover: await readdir(dir) };
}

/** Holders whose intervals overlap: how many held the lock at the same time, at worst. */
function mostAtOnce(held: [bigint, bigint][]): number {
  let most = held.length ? 1 : 0;
  for (const [from] of held) most = Math.max(most, held.filter(([a, b]) => a <= from && from < b).length);
  return most;
}

describe("store lock", () => {
  it("has exactly one holder at a time when 8 processes race over a stale lock, 20 rounds", async () => {
    const racers = Array.from({ length: 8 }, (_, i) =>
      start("lock-racer.mjs", [i < 4 ? "0" : "60000", "10"]),
    );
    await Promise.all(racers.map((r) => printed(r, "ready")));
    const rounds: Round[] = [];
    for (let i = 0; i < 20; i++) rounds.push(await race(racers, i));
    for (const r of racers) r.stdin!.end();
    expect(await Promise.all(racers.map(exited))).toEqual(Array(8).fill(0));
    // At most one holder at once, in every round (the old lock reached 6 of 6).
    expect(rounds.map((r) => mostAtOnce(r.held))).toEqual(rounds.map(() => 1));
    for (const r of rounds) {
      // Every racer either held it or was refused cleanly; the 4 that wait all got it.
      expect(r.lines).toBe(8);
      expect(r.held.length).toBeGreaterThanOrEqual(4);
      expect(r.refused.every((c) => c === "LEDGER_LOCKED")).toBe(true);
      // Released, and no guard or temp file left behind.
      expect(r.leftover).toEqual([]);
    }
  });

  it("takes over the lock of a holder that was SIGKILLed, and refuses it while it lived", async () => {
    const path = join(await tmp(), "LOCK");
    const holder = start("lock-holder.mjs", [path]);
    await printed(holder, "held");
    const err = (await acquireLock(path, 0).catch((e: unknown) => e)) as SealgateError;
    expect(err.code).toBe("LEDGER_LOCKED");
    expect(err.message).toContain(`process ${holder.pid} on ${hostname()}`);
    holder.kill("SIGKILL");
    await exited(holder);
    const lock = await acquireLock(path, 0);
    await lock.release();
    expect(await readdir(join(path, ".."))).toEqual([]);
  });

  it("takes over a stale lock even when a takeover of it died half-way, leaving its guard", async () => {
    const path = join(await tmp(), "LOCK");
    await staleLock(path, 1);
    const guard = (await takeoverGuardPath(path))!;
    await writeFile(guard, JSON.stringify({ host: hostname(), pid: DEAD_PID, started: "1", nonce: "y" }));
    await (await acquireLock(path, 0)).release();
    expect(await readdir(join(path, ".."))).toEqual([]);
  });

  it("treats an empty lock file as being taken, and as stale only once it is old", async () => {
    const path = join(await tmp(), "LOCK");
    await writeFile(path, "");
    const err = (await acquireLock(path, 0).catch((e: unknown) => e)) as SealgateError;
    expect(err.code).toBe("LEDGER_LOCKED");
    expect(err.message).toContain(`its lock file ${path} is still being written`);
    const old = new Date(Date.now() - 60_000);
    await utimes(path, old, old);
    await (await acquireLock(path, 0)).release();
  });
});

describe("a refused lock tells the operator who holds it (exit 2)", async () => {
  const { pki } = await devPki();
  const dir = await tmp();
  await copyFile(join(import.meta.dirname, "../../../config/policy.example.yaml"), join(dir, "policy.yaml"));
  const cfg = join(dir, "sealgate.yaml");
  await writeFile(
    cfg,
    `mlflow: { trackingUri: "http://127.0.0.1:9", auth: { type: none } }\nstore: { path: store }\npolicy: policy.yaml\ntrust: { anchors: ${pki.trust.anchors}, intermediates: ${pki.trust.intermediates} }\nsealing:\n  key: { type: pem, key: ${pki.sealing.key}, cert: ${pki.sealing.cert} }\n`,
  );
  const ledgerLock = join(dir, "store", "ledger", "LOCK");
  const outboxLock = join(dir, "store", "outbox", "snow.jsonl.lock");
  await mkdir(join(ledgerLock, ".."), { recursive: true });
  await mkdir(join(outboxLock, ".."), { recursive: true });

  const expectHolder = (message: string, pid: number, path: string) => {
    expect(message).toContain(`process ${pid} on ${hostname()} since ${new Date().getUTCFullYear()}-`);
    expect(message).toContain("lock-holder.mjs"); // its command line
    expect(message).toContain(`ps -p ${pid} -o pid,lstart,args`);
    expect(message).toContain(`lock file ${path}`);
  };

  it("sync, FileLedger.open and OutboxWriter.open while another process holds the store", async () => {
    const holder = start("lock-holder.mjs", [ledgerLock, outboxLock]);
    try {
      await printed(holder, "held");
      const r = await cli(["sync", "--config", cfg], {});
      expect(r.code).toBe(2);
      expect(r.err).toContain("sealgate: the ledger is in use by another sealgate process");
      expectHolder(r.err, holder.pid!, ledgerLock);

      const ledger = (await FileLedger.open(join(ledgerLock, "..")).catch(
        (e: unknown) => e,
      )) as SealgateError;
      expect([ledger.code, ledger.exitCode]).toEqual(["LEDGER_LOCKED", 2]);
      const outbox = (await OutboxWriter.open(join(dir, "store"), "snow").catch(
        (e: unknown) => e,
      )) as SealgateError;
      expect([outbox.code, outbox.exitCode]).toEqual(["OUTBOX_LOCKED", 2]);
      expect(outbox.message).toContain("outbox snow is being written by another sealgate process");
      expect(outbox.message).toContain("wait for its push to finish");
      expectHolder(outbox.message, holder.pid!, outboxLock);
    } finally {
      holder.stdin!.end();
      await exited(holder);
    }
    // Released on exit: the store is free again.
    await (await FileLedger.open(join(ledgerLock, ".."))).close();
  });
});
