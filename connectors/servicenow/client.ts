import { setTimeout as sleep } from "node:timers/promises";
import type { Logger } from "pino";
import type {
  Delivery,
  Destination,
  EvidenceFile,
  MappedFields,
  MappingFinding,
  RemoteFile,
  RemoteRef,
} from "../../src/delivery/destination/destination.js";
import { SealgateError } from "../../src/core/errors.js";
import { DEFAULT_BACKOFF } from "../../src/core/http/retry.js";
import { type ApiOptions, ServiceNowApi } from "./api.js";
import type { ServiceNowConfig, ServiceNowTarget } from "./config.js";
import { type Column, loadColumns } from "./dictionary.js";
import { correlationMisfit, mappingFindings, rowToWrite } from "./fields.js";
import { AttachmentCreated, AttachmentList, parseResponse, TableCreated, TableList } from "./responses.js";
import { type RetryPolicy, writeOnce } from "./write-once.js";
import { ServiceNowError } from "./errors.js";

const DIGEST = /^sha256:[0-9a-f]{64}$/;
const SYS_ID = /^[0-9a-f]{32}$/;

/**
 * ServiceNow as a sealgate destination: one row per record in the target table, carrying the
 * digest in the correlation column, evidence files as attachments on that row. Creates and
 * uploads are never retried blindly (the instance has no idempotency key): after a transient
 * failure the row or attachment is looked up first, and only written again if absent.
 */
export class ServiceNowDestination implements Destination {
  readonly kind = "servicenow";
  private readonly api: ServiceNowApi;
  private columns: Promise<Map<string, Column>> | null = null;
  private readonly logger: Logger | undefined;
  private readonly retry: RetryPolicy;

  constructor(
    readonly name: string,
    readonly config: ServiceNowConfig,
    readonly target: ServiceNowTarget,
    options: ApiOptions = {},
  ) {
    this.api = new ServiceNowApi(config, options);
    this.logger = options.logger;
    this.retry = {
      ...DEFAULT_BACKOFF,
      retries: config.retries,
      ...options.http?.backoff,
      sleep: options.http?.sleep ?? ((ms) => sleep(ms)),
    };
  }

  /** Authenticate and prove the correlation column exists and can hold a digest. */
  async prepare(): Promise<void> {
    await this.ready();
  }

  private ready(): Promise<Map<string, Column>> {
    this.columns ??= (async () => {
      const { table, correlationField } = this.target;
      const columns = await loadColumns(this.api, table);
      const why = correlationMisfit(columns.get(correlationField), correlationField, table);
      if (why) throw new ServiceNowError("SERVICENOW_TARGET_INVALID", `destination ${this.name}: ${why}`);
      return columns;
    })();
    this.columns.catch(() => (this.columns = null));
    return this.columns;
  }

  async find(correlation: string): Promise<RemoteRef | null> {
    digest(correlation);
    await this.ready();
    const field = this.target.correlationField;
    const body = await this.api.json({
      method: "GET",
      path: `api/now/table/${this.target.table}`,
      query: {
        sysparm_query: `${field}=${correlation}^ORDERBYsys_created_on`,
        sysparm_fields: `sys_id,${field}`,
        sysparm_exclude_reference_link: true,
        sysparm_limit: 2,
      },
    });
    const rows = parseResponse(TableList, body, `table ${this.target.table} (find)`).result;
    if (rows.some((r) => r[field] !== correlation)) {
      throw new ServiceNowError(
        "SERVICENOW_TARGET_INVALID",
        `destination ${this.name}: ${this.target.table} answered rows whose ${field} is not the value asked for; the filter was ignored, so lookups cannot be trusted`,
      );
    }
    if (rows.length > 1) {
      this.logger?.warn(
        { destination: this.name, correlation },
        "record exists twice remotely; using the oldest",
      );
    }
    return rows[0] ? this.ref(rows[0].sys_id) : null;
  }

  async create(delivery: Delivery): Promise<RemoteRef> {
    digest(delivery.correlation);
    const columns = await this.ready();
    const fields = rowToWrite(this.name, this.target, columns, delivery);
    const out = await writeOnce(
      this.retry,
      () =>
        this.api.json({
          method: "POST",
          path: `api/now/table/${this.target.table}`,
          query: {
            sysparm_fields: `sys_id,${this.target.correlationField}`,
            sysparm_exclude_reference_link: true,
            sysparm_input_display_value: this.target.inputDisplayValue,
          },
          json: fields,
          retries: 0,
        }),
      () => this.find(delivery.correlation),
    );
    if ("landed" in out) return out.landed;
    const row = parseResponse(TableCreated, out.written, `table ${this.target.table} (create)`).result;
    this.storedCorrelation(row, delivery.correlation);
    return this.ref(row.sys_id);
  }

  async listFiles(ref: RemoteRef): Promise<RemoteFile[]> {
    const id = this.sysId(ref);
    const files: RemoteFile[] = [];
    for await (const a of this.api.pages(
      "api/now/attachment",
      { sysparm_query: `table_sys_id=${id}^table_name=${this.target.table}^ORDERBYsys_created_on` },
      AttachmentList,
      "attachment (list)",
    )) {
      if (a.table_sys_id === id) files.push({ name: a.file_name, size: a.size_bytes });
    }
    return files;
  }

  async upload(ref: RemoteRef, file: EvidenceFile): Promise<void> {
    const id = this.sysId(ref);
    const out = await writeOnce(
      this.retry,
      () =>
        this.api.json({
          method: "POST",
          path: "api/now/attachment/file",
          query: { table_name: this.target.table, table_sys_id: id, file_name: file.name },
          body: file.bytes,
          headers: { "content-type": file.mediaType },
          retries: 0,
        }),
      async () => {
        const present = await this.listFiles(ref);
        return present.some((f) => f.name === file.name && f.size === file.bytes.length) ? true : null;
      },
    );
    if ("landed" in out) return;
    const stored = parseResponse(AttachmentCreated, out.written, "attachment/file").result;
    if (stored.size_bytes !== file.bytes.length) {
      throw new ServiceNowError(
        "SERVICENOW_RESPONSE_INVALID",
        `attachment ${file.name}: the instance stored ${stored.size_bytes} bytes of ${file.bytes.length}`,
      );
    }
  }

  /** Names (and, given a sample delivery's fields, values) against the live dictionary. */
  async checkMapping(fields: string[] | MappedFields): Promise<MappingFinding[]> {
    const { table, correlationField } = this.target;
    const columns = await loadColumns(this.api, table);
    const findings = mappingFindings(columns, table, fields, correlationField, this.target.inputDisplayValue);
    const why = correlationMisfit(columns.get(correlationField), correlationField, table);
    const problem = columns.has(correlationField) ? "wrong-type" : "unknown-field";
    if (why) findings.unshift({ field: correlationField, problem, detail: why });
    return findings;
  }

  close(): Promise<void> {
    return this.api.close();
  }

  /**
   * The row must carry the digest as sent: a field-level write ACL or a business rule that
   * drops it would make every later lookup miss and every retry create another row.
   */
  private storedCorrelation(row: Record<string, string> & { sys_id: string }, correlation: string) {
    const { table, correlationField: field } = this.target;
    if (row[field] === correlation) return;
    throw new ServiceNowError(
      "SERVICENOW_TARGET_INVALID",
      `destination ${this.name}: ${table} row ${row.sys_id} was created but ${field} reads ${JSON.stringify(row[field] ?? null)}, not the digest; grant the integration user write on ${table}.${field} (or remove the rule that clears it), then delete that row`,
    );
  }

  private ref(sysId: string): RemoteRef {
    return {
      id: sysId,
      url: `${this.config.url.replace(/\/$/, "")}/${this.target.table}.do?sys_id=${sysId}`,
    };
  }

  private sysId(ref: RemoteRef): string {
    if (!SYS_ID.test(ref.id))
      throw new SealgateError("USAGE", `not a ServiceNow sys_id: ${JSON.stringify(ref.id)}`);
    return ref.id;
  }
}

/** The correlation goes into an encoded query, so only a well-formed digest is accepted. */
function digest(correlation: string): void {
  if (!DIGEST.test(correlation)) {
    throw new SealgateError(
      "USAGE",
      `correlation must be sha256:<64 hex>, got ${JSON.stringify(correlation)}`,
    );
  }
}
