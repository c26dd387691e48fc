import { expect } from "vitest";
import { readOutbox } from "../../src/delivery/outbox/outbox.js";
import { FsObjectStore } from "../../src/evidence/store/fs-store.js";
import type { SimulatorHandle } from "../../connectors/sdk/simulator.js";

/**
 * What every connector must achieve: each sealed record exactly once remotely, each mapped
 * attachment exactly once on it, and each attachment's bytes (by SHA-256) equal to the local
 * object the outbox says was delivered.
 */
export async function expectExactlyOnceRemote(
  sim: SimulatorHandle,
  s: { root: string; records: string[] },
  destination: string,
  attachments: readonly string[],
): Promise<void> {
  const remote = sim.records();
  const states = await readOutbox(s.root, destination);
  const store = new FsObjectStore(s.root);
  expect(remote.map((r) => r.correlation).sort(), "remote records by correlation").toEqual(
    [...s.records].sort(),
  );
  for (const r of remote) {
    const names = r.files.map((f) => f.name).sort();
    expect(names, `files of remote record ${r.id}`).toEqual([...attachments].sort());
    const delivered = states.get(r.correlation!);
    expect(delivered?.state, `outbox state of ${r.correlation}`).toBe("delivered");
    for (const f of r.files) {
      const local = delivered!.files!.find((x) => x.name === f.name)!;
      expect(f.sha256, `${f.name} of ${r.correlation}`).toBe(local.sha256);
      expect(f.size).toBe(local.size);
      // The delivered digest names a real object in the store (get() re-hashes it).
      expect((await store.get(`sha256:${local.sha256}`)).length).toBe(f.size);
    }
  }
}
