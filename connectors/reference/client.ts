import type { Logger } from "pino";
import { z } from "zod";
import { resolveSecret, SecretRef } from "../../src/core/secrets.js";
import type {
  Delivery,
  Destination,
  EvidenceFile,
  MappingFinding,
  RemoteFile,
  RemoteRef,
} from "../../src/delivery/destination/destination.js";
import { SealgateError } from "../../src/core/errors.js";
import { HttpClient } from "../../src/core/http/client.js";
import { HttpStatusError } from "../../src/core/http/errors.js";

/** The reference connector's config section; defaults live here only. */
export const ReferenceConfig = z.strictObject({
  url: z.url().describe("base URL of the evidence service"),
  auth: z.strictObject({ clientId: z.string().min(1), clientSecret: SecretRef }),
  timeoutMs: z.int().min(1000).default(30_000),
});
export type ReferenceConfig = z.infer<typeof ReferenceConfig>;

export const ReferenceTarget = z.strictObject({ collection: z.string().min(1).default("evidence") });
export type ReferenceTarget = z.infer<typeof ReferenceTarget>;

const Token = z.object({ access_token: z.string().min(1) });
const Items = <T extends z.ZodType>(item: T) => z.object({ items: z.array(item) });
const RemoteFileShape = z.object({ name: z.string(), size: z.int().nonnegative(), sha256: z.string() });

export class ReferenceDestination implements Destination {
  readonly kind = "reference";
  private readonly http: HttpClient;
  private token: Promise<string> | null = null;

  constructor(
    readonly name: string,
    private readonly config: ReferenceConfig,
    private readonly logger: Logger,
  ) {
    this.http = new HttpClient({
      baseUrl: config.url,
      timeoutMs: config.timeoutMs,
      logger,
      authHeaders: async () => ({ authorization: `Bearer ${await this.bearer()}` }),
    });
  }

  /** One token for all workers, minted once at a time; refreshed after a 401. */
  private bearer(): Promise<string> {
    this.token ??= (async () => {
      const secret = resolveSecret(
        this.config.auth.clientSecret,
        `destinations.${this.name}.auth.clientSecret`,
      );
      const minter = new HttpClient({ baseUrl: this.config.url, timeoutMs: this.config.timeoutMs });
      try {
        const body = await minter.json({
          method: "POST",
          path: "oauth/token",
          json: { client_id: this.config.auth.clientId, client_secret: secret },
        });
        return Token.parse(body).access_token;
      } finally {
        await minter.close();
      }
    })().catch((err: unknown) => {
      this.token = null;
      throw err;
    });
    return this.token;
  }

  private async call<T>(schema: z.ZodType<T>, opts: Parameters<HttpClient["json"]>[0]): Promise<T> {
    for (let refreshed = false; ; refreshed = true) {
      try {
        return schema.parse(await this.http.json(opts));
      } catch (err) {
        if (err instanceof HttpStatusError && err.status === 401 && !refreshed) {
          this.logger.info("token rejected; minting a new one");
          this.token = null;
          continue;
        }
        if (err instanceof z.ZodError)
          throw new SealgateError(
            "DELIVERY_FAILED",
            `${this.name}: unexpected answer to ${opts.method} ${opts.path}`,
          );
        throw err;
      }
    }
  }

  async prepare(): Promise<void> {
    await this.bearer();
  }

  async find(correlation: string): Promise<RemoteRef | null> {
    const { items } = await this.call(Items(z.object({ id: z.string() })), {
      method: "GET",
      path: "api/records",
      query: { correlation },
    });
    if (items.length > 1)
      throw new SealgateError(
        "DELIVERY_FAILED",
        `${this.name}: ${items.length} remote records carry ${correlation}`,
      );
    return items[0] ? { id: items[0].id } : null;
  }

  async create(delivery: Delivery): Promise<RemoteRef> {
    // Not retried: a lost answer is resolved by find() on the next attempt, never by a second POST.
    const { id } = await this.call(z.object({ id: z.string() }), {
      method: "POST",
      path: "api/records",
      json: { correlation: delivery.correlation, fields: delivery.fields },
      retries: 0,
    });
    return { id };
  }

  async listFiles(ref: RemoteRef): Promise<RemoteFile[]> {
    return (await this.call(Items(RemoteFileShape), { method: "GET", path: `api/records/${ref.id}/files` }))
      .items;
  }

  async upload(ref: RemoteRef, file: EvidenceFile): Promise<void> {
    await this.call(RemoteFileShape, {
      method: "PUT",
      path: `api/records/${ref.id}/files/${encodeURIComponent(file.name)}`,
      body: file.bytes,
      headers: { "content-type": file.mediaType },
      retries: 0,
    });
  }

  async checkMapping(fields: string[]): Promise<MappingFinding[]> {
    const { items } = await this.call(Items(z.string()), { method: "GET", path: "api/fields" });
    return fields
      .filter((f) => !items.includes(f))
      .map((field) => ({
        field,
        problem: "unknown-field" as const,
        detail: `not one of ${items.join(", ")}`,
      }));
  }

  async close(): Promise<void> {
    await this.http.close();
  }
}
