import { createHash } from "node:crypto";
import { z } from "zod";
import type { EvidenceFile, RemoteFile } from "../../src/deliver/destination.js";
import { SealgateError } from "../../src/errors.js";
import { HttpStatusError } from "../../src/http/errors.js";
import type { ArcherApi } from "./api.js";
import { FieldType } from "./fields.js";
import type { LevelMetadata } from "./metadata.js";
import { Attachment, Content, Created, Id, parse, unwrap } from "./responses.js";

/*
 * Evidence files on an Archer record. Archer stores an attachment first (base64, unlinked) and
 * links it by rewriting the record's Attachment field with the full list of ids, so every link
 * is read-modify-write: existing ids are kept, and one record's links are serialised.
 * A crash between storing and linking leaves an unlinked attachment in Archer: it is never
 * shown on the record and the next run uploads the file again (an orphan, not a duplicate).
 */
export class Attachments {
  private readonly locks = new Map<number, Promise<unknown>>();

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
    await this.serialised(recordId, () => this.link(recordId, attachmentId, file.name));
  }

  /** Adds one attachment id to the record's field, keeping every id already there. */
  private async link(recordId: number, attachmentId: number, name: string): Promise<void> {
    let lastError: unknown;
    for (let round = 0; round < 3; round++) {
      const ids = attachmentIds(await this.read(recordId), this.fieldId);
      if (ids.includes(attachmentId)) return;
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
                  Value: [...ids, attachmentId],
                  FieldId: this.fieldId,
                },
              },
            },
          },
        });
        unwrap(raw, Created, `link attachment ${name} to record ${recordId}`);
      } catch (err) {
        // Archer answers 400 to an update that changes nothing: an earlier attempt that timed
        // out may have linked it already. Re-reading the record decides.
        if (!(err instanceof HttpStatusError && err.status === 400)) throw err;
        lastError = err;
      }
    }
    // Archer ignores ids it does not know and still reports success, so only a re-read proves it.
    throw new SealgateError(
      "ARCHER_REJECTED",
      `attachment ${attachmentId} (${name}) was not linked to record ${recordId}: Archer accepted the update but the record does not list it`,
      { cause: lastError },
    );
  }

  private async read(recordId: number) {
    const raw = await this.api.call({ method: "GET", path: this.api.path(`core/content/${recordId}`) });
    const content = unwrap(raw, Content, `read record ${recordId}`);
    if (content.Id !== recordId || content.LevelId !== this.meta.level.id) {
      throw new SealgateError(
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
