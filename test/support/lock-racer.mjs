// Child process for the lock race test. For each line "<lock path> <log>" on stdin (sent to
// every racer at once, so they start together) it takes the lock, holds it a moment, and
// appends its holding interval (process.hrtime: the machine's monotonic clock, comparable
// across processes) to the shared log, or the code it was refused with; then prints "done".
// Args: how long to wait for a live holder (ms), how long to hold (ms). Runs dist/.
import { appendFileSync } from "node:fs";
import process from "node:process";
import { createInterface } from "node:readline";
import { setTimeout as sleep } from "node:timers/promises";
import { acquireLock } from "../../dist/src/evidence/ledger/lock.js";

const [waitMs, holdMs] = process.argv.slice(2).map(Number);

async function round(path, log) {
  const note = (text) => appendFileSync(log, `${process.pid} ${text}\n`);
  let lock;
  try {
    lock = await acquireLock(path, waitMs);
  } catch (err) {
    return note(`refused ${err.code}`);
  }
  const from = process.hrtime.bigint();
  await sleep(holdMs);
  note(`held ${from} ${process.hrtime.bigint()}`);
  await lock.release();
}

process.stdout.write("ready\n");
for await (const line of createInterface({ input: process.stdin })) {
  const [path, log] = line.split(" ");
  await round(path, log);
  process.stdout.write("done\n");
}
