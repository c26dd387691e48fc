import type { Delivery } from "../../src/delivery/destination/destination.js";
import { SealgateError } from "../../src/core/errors.js";
import { HttpStatusError } from "../../src/core/http/errors.js";
import { type BackoffPolicy, backoffDelay, isRetryableStatus } from "../../src/core/http/retry.js";
import type { ArcherApi } from "./api.js";
import { type FieldContent, FieldType, toFieldContent } from "./fields.js";
import { type LevelMetadata, mappingError, type ValuesLists } from "./metadata.js";
import { ContentApiPage, Created, type FieldDefinition, Id, parse, unwrap } from "./responses.js";
import { ArcherError } from "./errors.js";

/*
 * Records of the target level, found by the digest in the correlation Text field. Archer has no
 * external-id mechanism and no idempotency key, so the lookup is the only guard against a
 * second record: it is checked row by row, and a create whose answer was lost looks again
 * before it is repeated.
 */
export class Records {
  constructor(
    private readonly api: ArcherApi,
    private readonly meta: LevelMetadata,
    private readonly correlation: FieldDefinition,
    private readonly lists: ValuesLists,
    private readonly retry: { sleep: (ms: number) => Promise<unknown>; backoff: BackoffPolicy },
  ) {}

  /** The one record carrying `digest`, null when none; two or more is an error, never a pick. */
  async find(digest: string): Promise<number | null> {
    const ids = await this.search(digest);
    if (ids.length > 1) {
      throw new ArcherError(
        "ARCHER_DUPLICATE_RECORD",
        `records ${ids.join(", ")} all carry ${digest} in "${this.correlation.Name}"; keep one and delete the others in Archer`,
      );
    }
    return ids[0] ?? null;
  }

  /** Ids of records whose correlation field equals `value`, via the OData Content API. */
  async search(value: string): Promise<number[]> {
    const { alias } = this.meta.level;
    const field = this.correlation.Alias;
    const idKey = `${alias}_Id`;
    const raw = await this.api
      .contentApi(alias, {
        $filter: `${field} eq '${value.replaceAll("'", "''")}'`,
        $select: `${idKey},${field}`,
        $top: 10,
      })
      .catch((err: unknown) => {
        if (!(err instanceof HttpStatusError && err.status === 404)) throw err;
        throw mappingError(
          "target.level",
          `the Content API has no endpoint contentapi/${alias} (404); sealgate finds records by digest through it, so enable the Content API for this user, or give the level a unique alias`,
        );
      });
    return parse(ContentApiPage, raw, `search ${alias}`).value.map((row) => {
      if (row[field] !== value) {
        throw new ArcherError(
          "ARCHER_RESPONSE_INVALID",
          `search ${alias}: Archer returned a record whose ${field} is not the value searched; the $filter was ignored`,
        );
      }
      return parse(Id, row[idKey], `search ${alias} ${idKey}`);
    });
  }

  async create(delivery: Delivery): Promise<number> {
    const contents: Record<string, FieldContent> = {};
    for (const [name, value] of Object.entries(delivery.fields)) {
      const def = this.meta.fields.get(name);
      if (!def)
        throw mappingError(`fields.${name}`, `level "${this.meta.level.name}" has no field "${name}"`);
      contents[def.Id] = await toFieldContent(def, value, this.lists);
    }
    const id = this.correlation.Id;
    const mapped = contents[id]?.Value;
    if (mapped !== undefined && mapped !== delivery.correlation) {
      throw mappingError(
        `fields.${this.correlation.Name}`,
        "the correlation field is filled by sealgate with the record digest; remove it from fields:",
      );
    }
    contents[id] = { Type: FieldType.Text, Value: delivery.correlation, FieldId: id };
    const body = { Content: { LevelId: this.meta.level.id, FieldContents: contents } };
    for (let attempt = 0; ; attempt++) {
      try {
        const raw = await this.api.call({
          method: "POST",
          path: this.api.path("core/content"),
          json: body,
          retries: 0,
        });
        return unwrap(raw, Created, `create record for ${delivery.correlation}`).Id;
      } catch (err) {
        if (attempt >= this.retry.backoff.retries || !transient(err)) throw err;
        const retryAfter = err instanceof HttpStatusError ? err.retryAfterMs : undefined;
        await this.retry.sleep(retryAfter ?? backoffDelay(attempt, this.retry.backoff));
        // The failed POST may have created the record before its answer was lost.
        const existing = await this.find(delivery.correlation);
        if (existing !== null) return existing;
      }
    }
  }
}

function transient(err: unknown): boolean {
  if (err instanceof HttpStatusError) return isRetryableStatus(err.status);
  return err instanceof SealgateError && (err.code === "HTTP_CONNECTION" || err.code === "HTTP_TIMEOUT");
}
