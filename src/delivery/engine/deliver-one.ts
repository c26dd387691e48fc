import { SealgateError } from "../../core/errors.js";
import type { CompiledMapping } from "../mapping/compile.js";
import type { OutboxWriter } from "../outbox/outbox.js";
import type { PromotionRecord } from "../../record/schema.js";
import type {
  Delivery,
  Destination,
  EvidenceFile,
  RemoteFile,
  RemoteRef,
} from "../destination/destination.js";

/*
 * The step sequence for one (record, destination): find by correlation -> create if missing
 * -> list files -> upload the missing ones -> finish -> delivered. The remote id is persisted
 * the moment it is known, so a crash between any two steps resumes without a second record;
 * files are compared by name (and size/sha256 where the API reports them) before uploading.
 */

export interface Work {
  record: PromotionRecord;
  digest: string;
  files: EvidenceFile[];
}

/** Runs a remote call under the destination's rate limit. */
export type Call = <T>(fn: () => Promise<T>) => Promise<T>;

export async function deliverOne(
  dest: Destination,
  mapping: CompiledMapping,
  outbox: OutboxWriter,
  work: Work,
  call: Call,
  now: () => Date,
): Promise<RemoteRef> {
  const delivery: Delivery = {
    correlation: work.digest,
    fields: mapping.render(work.record, work.digest),
    files: work.files,
  };
  let ref = outbox.get(work.digest)?.remote;
  if (!ref) {
    const found = (await call(() => dest.find(work.digest))) ?? (await call(() => dest.create(delivery)));
    // Only the contract's fields are kept: a resumed delivery sees exactly what is persisted.
    ref = { id: found.id, ...(found.url ? { url: found.url } : {}) };
    await outbox.record({ to: "remote", record: work.digest, at: now().toISOString(), remote: ref });
  }
  const known = ref;
  const remote = await call(() => dest.listFiles(known));
  for (const file of work.files) {
    const there = remote.filter((r) => r.name === file.name);
    if (there.some((r) => matches(r, file))) continue;
    if (there.length > 0)
      throw new SealgateError(
        "DELIVERY_FAILED",
        `${dest.name}: remote record ${known.id} already has a ${file.name} that differs from the local object (${describe(there[0]!)} vs size ${file.bytes.length}, sha256 ${file.sha256}); remove the remote file, then run sealgate outbox retry`,
      );
    await call(() => dest.upload(known, file));
  }
  if (dest.finish) await call(() => dest.finish!(known, delivery));
  await outbox.record({
    to: "delivered",
    record: work.digest,
    at: now().toISOString(),
    remote: known,
    files: work.files.map((f) => ({ name: f.name, sha256: f.sha256, size: f.bytes.length })),
  });
  return known;
}

function matches(remote: RemoteFile, local: EvidenceFile): boolean {
  if (remote.size !== undefined && remote.size !== local.bytes.length) return false;
  if (remote.sha256 !== undefined && remote.sha256.toLowerCase() !== local.sha256) return false;
  return true;
}

const describe = (r: RemoteFile) =>
  [r.size !== undefined ? `size ${r.size}` : "", r.sha256 ? `sha256 ${r.sha256}` : ""]
    .filter(Boolean)
    .join(", ") || "no size or hash reported";
