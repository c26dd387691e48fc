import { createHash } from "node:crypto";
import { z } from "zod";
import type { EvidenceFile, RemoteFile } from "../../src/delivery/destination/destination.js";
import { HttpStatusError } from "../../src/core/http/errors.js";
import type { ArcherApi } from "./api.js";
import { FieldType } from "./fields.js";
import type { LevelMetadata } from "./metadata.js";
import { Attachment, Content, Created, Id, parse, unwrap } from "./responses.js";
import { ArcherError } from "./errors.js";

/*
 * Evidence files on an Archer record. Archer stores an attachment first (base64, unlinked) and
 * links it by rewriting the record's Attachment field with the full list of ids, so a link is
 * read-modify-write: existing ids are kept, and one record's links are serialised. `upload`
 * only stores; `linkStored` (the delivery's finish) links every file stored for the record in
 * one update and one confirming read, instead of three requests per file.
 * A crash between storing and linking leaves unlinked attachments in Archer: never shown on
 * the record, and the next run uploads the files again (orphans, not duplicates).
 */
export class Attachments {
  private readonly locks = new Map<number, Promise<unknown>>();
  /** Per record, per file name: the attachment stored and not yet linked (the latest wins). */
  private readonly stored = new Map<number, Map<string, number>>();

  constructor(
    private readonly api: ArcherApi,
    private readonly meta: LevelMetadata,
    private readonly fieldId: number,
  ) {}

  async list(recordId: number): Promise<RemoteFile[]> {
    const ids = attachmentIds(await this.read(recordId), this.fieldId);
    const files: RemoteFile[] = [];
    for (const id of ids) {
      const raw = await this.api.call({
        method: "GET",
        path: this.api.path(`core/content/attachment/${id}`),
      });
      const att = unwrap(raw, Attachment, `attachment ${id} of record ${recordId}`);
      const bytes = Buffer.from(att.AttachmentBytes, "base64");
      files.push({
        name: att.AttachmentName,
        size: bytes.length,
        sha256: createHash("sha256").update(bytes).digest("hex"),
      });
    }
    return files;
  }

  async upload(recordId: number, file: EvidenceFile): Promise<void> {
    const raw = await this.api.call({
      method: "POST",
      path: this.api.path("core/content/attachment"),
      json: { AttachmentName: file.name, AttachmentBytes: Buffer.from(file.bytes).toString("base64") },
    });
    const { Id: attachmentId } = unwrap(raw, Created, `store attachment ${file.name}`);
    let names = this.stored.get(recordId);
    if (!names) this.stored.set(recordId, (names = new Map()));
    // A file stored again (a retried delivery) replaces the earlier copy, which stays an orphan.
    names.set(file.name, attachmentId);
  }

  /** Link every attachment stored for the record, keeping every id already there. */
  async linkStored(recordId: number): Promise<void> {
    await this.serialised(recordId, async () => {
      const names = this.stored.get(recordId);
      if (!names?.size) return;
      const linking = new Map(names);
      await this.link(recordId, linking);
      // Only what was linked: a file stored again meanwhile waits for the next finish.
      for (const [name, id] of linking) if (names.get(name) === id) names.delete(name);
      if (names.size === 0) this.stored.delete(recordId);
    });
  }

  /** Adds attachment ids (by file name) to the record's field, keeping every id already there. */
  private async link(recordId: number, linking: Map<string, number>): Promise<void> {
    let lastError: unknown;
    let missing: [string, number][] = [];
    for (let round = 0; round < 3; round++) {
      const ids = attachmentIds(await this.read(recordId), this.fieldId);
      missing = [...linking].filter(([, id]) => !ids.includes(id));
      if (missing.length === 0) return;
      try {
        const raw = await this.api.call({
          method: "PUT",
          path: this.api.path("core/content"),
          json: {
            Content: {
              Id: recordId,
              LevelId: this.meta.level.id,
              FieldContents: {
                [this.fieldId]: {
                  Type: FieldType.Attachment,
                  Value: [...ids, ...missing.map(([, id]) => id)],
                  FieldId: this.fieldId,
                },
              },
            },
          },
        });
        unwrap(raw, Created, `link ${missing.map(([n]) => n).join(", ")} to record ${recordId}`);
      } catch (err) {
        // Archer answers 400 to an update that changes nothing: an earlier attempt that timed
        // out may have linked it already. Re-reading the record decides.
        if (!(err instanceof HttpStatusError && err.status === 400)) throw err;
        lastError = err;
      }
    }
    // Archer ignores ids it does not know and still reports success, so only a re-read proves it.
    const what = missing.map(([n, id]) => `${id} (${n})`).join(", ");
    throw new ArcherError(
      "ARCHER_REJECTED",
      `${missing.length === 1 ? "attachment" : "attachments"} ${what} ${missing.length === 1 ? "was" : "were"} not linked to record ${recordId}: Archer accepted the update but the record does not list ${missing.length === 1 ? "it" : "them"}`,
      { cause: lastError },
    );
  }

  private async read(recordId: number) {
    const raw = await this.api.call({ method: "GET", path: this.api.path(`core/content/${recordId}`) });
    const content = unwrap(raw, Content, `read record ${recordId}`);
    if (content.Id !== recordId || content.LevelId !== this.meta.level.id) {
      throw new ArcherError(
        "ARCHER_RESPONSE_INVALID",
        `record ${recordId}: Archer returned record ${content.Id} of level ${content.LevelId}, expected level ${this.meta.level.id} (${this.meta.level.name})`,
      );
    }
    return content;
  }

  private serialised<T>(recordId: number, fn: () => Promise<T>): Promise<T> {
    const prev = this.locks.get(recordId) ?? Promise.resolve();
    const next = prev.catch(() => undefined).then(fn);
    const settled = next.catch(() => undefined);
    this.locks.set(recordId, settled);
    void settled.then(() => {
      if (this.locks.get(recordId) === settled) this.locks.delete(recordId);
    });
    return next;
  }
}

const AttachmentIds = z.array(Id).nullish();

function attachmentIds(content: Content, fieldId: number): number[] {
  const field = content.FieldContents[String(fieldId)];
  if (!field) return [];
  return parse(AttachmentIds, field.Value, `record ${content.Id} attachment field ${fieldId}`) ?? [];
}
