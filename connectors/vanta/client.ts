import type {
  Delivery,
  Destination,
  EvidenceFile,
  MappingFinding,
  RemoteFile,
  RemoteRef,
} from "../../src/delivery/destination/destination.js";
import { SealgateError } from "../../src/core/errors.js";
import { HttpStatusError } from "../../src/core/http/errors.js";
import { VantaApi, type VantaApiOptions } from "./api.js";
import type { VantaConfig, VantaTarget } from "./config.js";
import { documentBody, unknownFieldFindings } from "./fields.js";
import { multipartBody } from "./multipart.js";
import { Document, parseResponse, Upload } from "./responses.js";
import { ALREADY_DONE, writeUnlessDone } from "./retry.js";
import { TitleIndex } from "./title-index.js";
import { isCorrelation } from "./title.js";

export type VantaDestinationOptions = VantaApiOptions;

/**
 * Sealed records as Vanta documents: one document per record (digest in the title), the
 * evidence files as its uploads, then submit. Creates and uploads are never blindly retried:
 * after a failure whose outcome is unknown the connector lists first, so a lost response can
 * never become a second document or a second upload.
 */
export class VantaDestination implements Destination {
  readonly kind = "vanta";
  private readonly api: VantaApi;
  private readonly index: TitleIndex;

  constructor(
    readonly name: string,
    private readonly config: VantaConfig,
    private readonly target: VantaTarget,
    options: VantaDestinationOptions = {},
  ) {
    this.api = new VantaApi(config, target.scope, `destinations.${name}`, options);
    this.index = new TitleIndex(() => this.api.list("v1/documents", Document), options.logger);
  }

  async prepare(): Promise<void> {
    await this.api.tokens.current();
    await this.index.refresh();
  }

  async find(correlation: string): Promise<RemoteRef | null> {
    if (!isCorrelation(correlation)) {
      throw new SealgateError(
        "USAGE",
        `Vanta lookup needs a record digest sha256:<64 hex>, got ${correlation}`,
      );
    }
    const trustMiss = this.config.soleWriter && this.index.listed;
    if (this.index.get(correlation) === null && !trustMiss) await this.index.refresh();
    const id = this.index.get(correlation);
    return id === null ? null : { id };
  }

  async create(delivery: Delivery): Promise<RemoteRef> {
    const json = documentBody(this.target, delivery.fields, delivery.correlation);
    const created = await writeUnlessDone(
      () => this.api.call({ method: "POST", path: "v1/documents", json, retries: 0 }),
      async () => {
        await this.index.refresh();
        return this.index.get(delivery.correlation) !== null;
      },
      this.api.retry,
    );
    if (created === ALREADY_DONE) return { id: this.index.get(delivery.correlation) as string };
    const doc = parseResponse(Document, created, "POST /v1/documents");
    this.index.add(delivery.correlation, doc.id);
    return { id: doc.id, ...(doc.url ? { url: doc.url } : {}) };
  }

  /** Live uploads by file name; with `verifyUploads`, also the size and SHA-256 Vanta serves. */
  listFiles(ref: RemoteRef): Promise<RemoteFile[]> {
    return this.forgetIfGone(ref, () => this.listUploads(ref));
  }

  private async listUploads(ref: RemoteRef): Promise<RemoteFile[]> {
    const path = `v1/documents/${encodeURIComponent(ref.id)}/uploads`;
    const files: RemoteFile[] = [];
    for await (const u of this.api.list(path, Upload)) {
      // Deleted uploads stay listed with a deletionDate; they are not evidence any more.
      if (u.fileName === null || u.deletionDate) continue;
      const media = `${path}/${encodeURIComponent(u.id)}/media`;
      files.push({ name: u.fileName, ...(this.config.verifyUploads ? await this.api.digest(media) : {}) });
    }
    return files;
  }

  async upload(ref: RemoteRef, file: EvidenceFile): Promise<void> {
    const { body, contentType } = multipartBody(
      { description: `sha256:${file.sha256}` },
      { field: "file", fileName: file.name, mediaType: file.mediaType, bytes: file.bytes },
    );
    const path = `v1/documents/${encodeURIComponent(ref.id)}/uploads`;
    const headers = { "content-type": contentType };
    const sent = await this.forgetIfGone(ref, () =>
      writeUnlessDone(
        () => this.api.call({ method: "POST", path, body, headers, retries: 0 }),
        async () => (await this.listUploads(ref)).some((f) => f.name === file.name),
        this.api.retry,
      ),
    );
    if (sent !== ALREADY_DONE) parseResponse(Upload, sent, `POST /${path}`);
  }

  /**
   * Submit once every file is up. Whether Vanta accepts a second submit is undocumented: when
   * one is refused with a 4xx, the document's status decides whether ours already landed.
   */
  async finish(ref: RemoteRef): Promise<void> {
    if (!this.target.submit) return;
    const path = `v1/documents/${encodeURIComponent(ref.id)}/submit`;
    try {
      await this.forgetIfGone(ref, () => this.api.call({ method: "POST", path }));
    } catch (err) {
      const refused = err instanceof HttpStatusError && [400, 409, 422].includes(err.status);
      if (!refused || !(await this.isSubmitted(ref))) throw err;
    }
  }

  /** Vanta documents have a fixed field set; the live check proves the credentials can read. */
  async checkMapping(fields: string[]): Promise<MappingFinding[]> {
    await this.api.call({ method: "GET", path: "v1/documents", query: { pageSize: 1 } });
    return unknownFieldFindings(fields);
  }

  /** A 404 means the document was deleted in Vanta: forget it so the next find re-lists. */
  private async forgetIfGone<T>(ref: RemoteRef, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      if (err instanceof HttpStatusError && err.status === 404) this.index.forget(ref.id);
      throw err;
    }
  }

  private async isSubmitted(ref: RemoteRef): Promise<boolean> {
    for await (const doc of this.api.list("v1/documents", Document)) {
      if (doc.id === ref.id) return doc.uploadStatus === "OK";
    }
    return false;
  }

  close(): Promise<void> {
    return this.api.close();
  }
}
