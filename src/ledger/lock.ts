import { readFileSync } from "node:fs";
import { open, readFile, rm } from "node:fs/promises";
import { hostname } from "node:os";
import { setTimeout as sleep } from "node:timers/promises";
import { SealgateError } from "../errors.js";

/*
 * One writer per ledger. Node has no flock(2), so this is the PostgreSQL postmaster.pid
 * scheme: a lock file created with O_EXCL that names its holder (host, pid and the process's
 * start time). A holder that died, even by SIGKILL, is recognised as gone (its pid no longer
 * runs, or now belongs to a process that started later) and its lock is taken over.
 */

interface Holder {
  host: string;
  pid: number;
  started: string;
}

function processStart(pid: number): string {
  try {
    // Field 22 of /proc/<pid>/stat: start time in clock ticks since boot (Linux).
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19] ?? "";
  } catch {
    return "";
  }
}

function holderAlive(h: Holder): boolean {
  if (h.host !== hostname()) return true; // Cannot tell from here: assume it is.
  try {
    process.kill(h.pid, 0);
  } catch (err) {
    return (err as { code?: string }).code === "EPERM";
  }
  return !h.started || processStart(h.pid) === h.started;
}

export interface Lock {
  release(): Promise<void>;
}

export async function acquireLock(path: string, waitMs = 0): Promise<Lock> {
  const me: Holder = { host: hostname(), pid: process.pid, started: processStart(process.pid) };
  const deadline = Date.now() + waitMs;
  for (;;) {
    try {
      const fh = await open(path, "wx", 0o600);
      await fh.writeFile(`${JSON.stringify(me)}\n`);
      await fh.sync();
      await fh.close();
      return { release: () => rm(path, { force: true }) };
    } catch (err) {
      if ((err as { code?: string }).code !== "EEXIST") throw err;
    }
    let holder: Holder | undefined;
    try {
      holder = JSON.parse(await readFile(path, "utf8")) as Holder;
    } catch {
      // Written by a holder that died between create and write: nobody holds it.
    }
    if (!holder || !holderAlive(holder)) {
      await rm(path, { force: true });
      continue;
    }
    if (Date.now() >= deadline) {
      throw new SealgateError(
        "LEDGER_LOCKED",
        `the ledger is in use by process ${holder.pid} on ${holder.host} (${path}); stop it or wait for it to finish`,
      );
    }
    await sleep(100);
  }
}
