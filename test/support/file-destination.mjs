// A file-backed test double of a remote GRC system, for delivery-engine tests. Plain JS (typed
// by file-destination.d.mts) so the crash child can load it beside the built engine in dist/.
// Each remote write is atomic (temp file + rename), like a server that commits a request
// whole or not at all. Every upload is kept, also a second one of the same name, so tests can
// see duplicates. Fault knobs: `failBefore` (the call fails, nothing happens remotely) and
// `failAfter` (the call happens remotely, but the caller sees an error: a lost response),
// `delayMs` (latency per call).
import { createHash, randomUUID } from "node:crypto";
import { mkdir, readdir, readFile, rename, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";

const sha256 = (b) => createHash("sha256").update(b).digest("hex");

async function atomicWrite(path, bytes) {
  const tmp = `${path}.tmp-${randomUUID()}`;
  await writeFile(tmp, bytes);
  await rename(tmp, path);
}

export class FileDestination {
  kind = "file";
  calls = { find: 0, create: 0, listFiles: 0, upload: 0, finish: 0 };

  constructor(name, dir, faults = {}) {
    this.name = name;
    this.dir = dir;
    this.faults = { failBefore: 0, failAfter: 0, delayMs: 0, random: Math.random, ...faults };
  }

  async step(what, fn) {
    this.calls[what]++;
    if (this.faults.delayMs) await sleep(this.faults.delayMs);
    if (this.faults.random() < this.faults.failBefore) throw new Error(`${what}: injected outage`);
    const result = await fn();
    if (this.faults.random() < this.faults.failAfter) throw new Error(`${what}: injected lost response`);
    return result;
  }

  async prepare() {
    await mkdir(join(this.dir, "records"), { recursive: true });
    await mkdir(join(this.dir, "files"), { recursive: true });
  }

  find(correlation) {
    return this.step("find", async () => {
      const hit = (await this.records()).find((r) => r.correlation === correlation);
      return hit ? { id: hit.id } : null;
    });
  }

  create(delivery) {
    return this.step("create", async () => {
      const id = randomUUID();
      const rec = { id, correlation: delivery.correlation, fields: delivery.fields };
      await atomicWrite(join(this.dir, "records", `${id}.json`), JSON.stringify(rec));
      return { id };
    });
  }

  listFiles(ref) {
    return this.step("listFiles", async () =>
      (await this.filesOf(ref.id)).map((f) => ({ name: f.name, size: f.size, sha256: f.sha256 })),
    );
  }

  upload(ref, file) {
    return this.step("upload", async () => {
      const dir = join(this.dir, "files", ref.id);
      await mkdir(dir, { recursive: true });
      await atomicWrite(join(dir, `${randomUUID()}=${file.name}`), file.bytes);
    });
  }

  finish(ref) {
    return this.step("finish", async () => {
      await atomicWrite(join(this.dir, "records", `${ref.id}.finished`), "");
    });
  }

  async checkMapping() {
    return [];
  }

  async close() {}

  /** Everything the "remote" holds, shaped like a simulator's records(). */
  async records() {
    const names = await readdir(join(this.dir, "records")).catch(() => []);
    const out = [];
    for (const n of names.filter((n) => n.endsWith(".json"))) {
      const rec = JSON.parse(await readFile(join(this.dir, "records", n), "utf8"));
      const finished = names.includes(`${rec.id}.finished`);
      out.push({ ...rec, finished, files: await this.filesOf(rec.id) });
    }
    return out;
  }

  async filesOf(id) {
    const dir = join(this.dir, "files", id);
    const names = (await readdir(dir).catch(() => [])).filter((n) => !n.includes(".tmp-"));
    return Promise.all(
      names.map(async (n) => {
        const bytes = await readFile(join(dir, n));
        return { name: n.slice(n.indexOf("=") + 1), size: bytes.length, sha256: sha256(bytes) };
      }),
    );
  }
}
