// Child process for the crash test: appends records and checkpoints as fast as it can and
// prints "ack <seq> <record digest>" only after each append has resolved (fsynced).
// It runs the built code (dist/), so `npm test` builds before testing.
import { join } from "node:path";
import process from "node:process";
import { sealSampleRecord } from "../../dist/src/dev/sample-record.js";
import { FileLedger } from "../../dist/src/evidence/ledger/file-ledger.js";
import { loadSigner } from "../../dist/src/crypto/sign/load.js";
import { FsObjectStore } from "../../dist/src/evidence/store/fs-store.js";

const [root, key, cert] = process.argv.slice(2);
const signer = await loadSigner({ type: "pem", key, cert }, "crash-test", {});
const store = await new FsObjectStore(root).init();
const ledger = await FileLedger.open(join(root, "ledger"), { waitMs: 10_000 });
for (let i = 0; ; i++) {
  const { record, seq } = await sealSampleRecord(store, ledger, `from ${process.pid} #${i} ${Math.random()}`);
  process.stdout.write(`ack ${seq} ${record}\n`);
  if (i % 7 === 6) await ledger.checkpoint(signer);
}
