import { readFileSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import type { Logger } from "pino";
import { resolveSecret } from "../../src/core/secrets.js";
import type {
  Delivery,
  Destination,
  EvidenceFile,
  MappingFinding,
  RemoteFile,
  RemoteRef,
} from "../../src/delivery/destination/destination.js";
import { SealgateError } from "../../src/core/errors.js";
import { HttpClient, type HttpClientOptions } from "../../src/core/http/client.js";
import { DEFAULT_BACKOFF } from "../../src/core/http/retry.js";
import { ArcherApi } from "./api.js";
import { Attachments } from "./attachments.js";
import type { ArcherConfig, ArcherTarget } from "./config.js";
import { archerErrorBody } from "./errors.js";
import { checkFields, FieldType, typeName } from "./fields.js";
import { type LevelMetadata, loadMetadata, mappingError, ValuesLists } from "./metadata.js";
import { Records } from "./records.js";
import { ArcherSession } from "./session.js";

export interface ArcherOptions {
  logger?: Logger;
  env?: NodeJS.ProcessEnv;
  /** Test seams (backoff, sleep) for the one HTTP client. */
  http?: Partial<HttpClientOptions>;
}

interface Ready {
  meta: LevelMetadata;
  records: Records;
  attachments: Attachments;
}

/**
 * Sealed evidence as records of one Archer application level: the digest in a Text field
 * (the lookup key), mapped fields typed by their Archer field type, evidence files in an
 * Attachment field. Names are resolved to ids once, on first use.
 */
export class ArcherDestination implements Destination {
  readonly kind = "archer";
  private readonly http: HttpClient;
  private readonly session: ArcherSession;
  private readonly api: ArcherApi;
  private metadataOnce: Promise<LevelMetadata> | null = null;
  private readyOnce: Promise<Ready> | null = null;

  constructor(
    readonly name: string,
    config: ArcherConfig,
    private readonly target: ArcherTarget,
    private readonly options: ArcherOptions = {},
  ) {
    const password = resolveSecret(config.auth.password, `destinations.${name}.auth.password`, options.env);
    this.http = new HttpClient({
      baseUrl: config.url,
      timeoutMs: config.timeoutMs,
      bodyTimeoutMs: config.bodyTimeoutMs,
      ...(config.ca ? { ca: readCa(config.ca, name) } : {}),
      ...(options.logger ? { logger: options.logger } : {}),
      errorBody: archerErrorBody,
      ...options.http,
    });
    this.session = new ArcherSession(this.http, target.apiPrefix, {
      instance: target.instance,
      username: config.auth.username,
      userDomain: config.auth.userDomain,
      password,
    });
    this.api = new ArcherApi(this.http, target.apiPrefix, this.session, config.pageSize);
  }

  async prepare(): Promise<void> {
    const { meta, records } = await this.ready();
    // Prove the digest search filters: a value no record holds must find nothing.
    if ((await records.search(`sealgate-probe-${Date.now()}`)).length > 0) {
      throw mappingError(
        "target.correlationField",
        "Archer's Content API ignored the $filter; lookups cannot be trusted",
      );
    }
    this.options.logger?.info(
      { destination: this.name, application: meta.application.id, level: meta.level.id },
      "archer destination ready",
    );
  }

  async find(correlation: string): Promise<RemoteRef | null> {
    const id = await (await this.ready()).records.find(correlation);
    return id === null ? null : { id: String(id) };
  }

  async create(delivery: Delivery): Promise<RemoteRef> {
    return { id: String(await (await this.ready()).records.create(delivery)) };
  }

  async listFiles(ref: RemoteRef): Promise<RemoteFile[]> {
    return (await this.ready()).attachments.list(recordId(ref));
  }

  /** Stores the file; `finish` links it, with the delivery's other files, in one update. */
  async upload(ref: RemoteRef, file: EvidenceFile): Promise<void> {
    await (await this.ready()).attachments.upload(recordId(ref), file);
  }

  async finish(ref: RemoteRef): Promise<void> {
    await (await this.ready()).attachments.linkStored(recordId(ref));
  }

  async checkMapping(fields: string[]): Promise<MappingFinding[]> {
    let meta: LevelMetadata;
    try {
      meta = await this.metadata();
    } catch (err) {
      // An application or level that cannot be found is itself the finding.
      const where = err instanceof SealgateError && /^archer mapping (target\.\w+): /.exec(err.message);
      if (!where) throw err;
      return [{ field: where[1] as string, problem: "other", detail: err.message }];
    }
    const special = { correlation: this.target.correlationField, attachment: this.target.attachmentField };
    return checkFields(fields, meta.fields, special);
  }

  async close(): Promise<void> {
    try {
      await this.session.logout();
    } catch (err) {
      this.options.logger?.warn(
        { destination: this.name, err: (err as Error).message },
        "archer logout failed",
      );
    } finally {
      await this.http.close();
    }
  }

  private metadata(): Promise<LevelMetadata> {
    this.metadataOnce ??= loadMetadata(this.api, this.target);
    this.metadataOnce.catch(() => (this.metadataOnce = null));
    return this.metadataOnce;
  }

  /** Metadata plus the two fields sealgate itself relies on, checked once. */
  private ready(): Promise<Ready> {
    this.readyOnce ??= (async () => {
      const meta = await this.metadata();
      const correlation = this.special(meta, "correlationField", FieldType.Text);
      const attachment = this.special(meta, "attachmentField", FieldType.Attachment);
      const retry = {
        sleep: this.options.http?.sleep ?? ((ms: number) => sleep(ms)),
        backoff: { ...DEFAULT_BACKOFF, ...this.options.http?.backoff },
      };
      return {
        meta,
        records: new Records(this.api, meta, correlation, new ValuesLists(this.api), retry),
        attachments: new Attachments(this.api, meta, attachment.Id),
      };
    })();
    this.readyOnce.catch(() => (this.readyOnce = null));
    return this.readyOnce;
  }

  private special(meta: LevelMetadata, key: "correlationField" | "attachmentField", type: number) {
    const name = this.target[key];
    const def = meta.fields.get(name);
    if (def?.Type === type) return def;
    throw mappingError(
      `target.${key}`,
      def
        ? `"${name}" is a ${typeName(def.Type)} field; name a ${typeName(type)} field`
        : `level "${meta.level.name}" has no field "${name}"; its fields are ${[...meta.fields.keys()].join(", ")}`,
    );
  }
}

function recordId(ref: RemoteRef): number {
  const id = Number(ref.id);
  if (!Number.isSafeInteger(id) || id <= 0) {
    throw new SealgateError("USAGE", `"${ref.id}" is not an Archer content id`);
  }
  return id;
}

function readCa(path: string, name: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch (cause) {
    throw new SealgateError("CONFIG_INVALID", `destinations.${name}.ca: cannot read ${path}`, { cause });
  }
}
