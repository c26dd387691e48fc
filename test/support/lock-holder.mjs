// Child process that takes the locks at the paths it is given (built code, dist/), prints
// "held", and keeps them until its stdin closes (or it is killed, as a crashed sealgate).
import process from "node:process";
import { acquireLock } from "../../dist/src/evidence/ledger/lock.js";

const locks = [];
for (const path of process.argv.slice(2)) locks.push(await acquireLock(path, 0));
process.stdout.write("held\n");
process.stdin.resume();
await new Promise((done) => process.stdin.once("end", done));
for (const lock of locks) await lock.release();
