import type { z } from "zod";
import type { HttpClient, Query, RequestOptions } from "../../src/core/http/client.js";
import { unwrapList } from "./responses.js";
import type { ArcherSession } from "./session.js";
import { ArcherError } from "./errors.js";

/**
 * Authenticated calls to Archer's REST API. Every request carries the shared session; a 401
 * triggers one (single-flight) re-login and one repeat of the request, which is safe even for
 * POSTs because a 401 means Archer did not act on it.
 */
export class ArcherApi {
  constructor(
    readonly http: HttpClient,
    readonly prefix: string,
    private readonly session: ArcherSession,
    private readonly pageSize: number,
  ) {}

  call(opts: RequestOptions): Promise<unknown> {
    return this.session.send((authorization) =>
      this.http.json({ ...opts, headers: { ...opts.headers, authorization } }),
    );
  }

  /** A platform API path under the configured prefix (platformapi/ or api/). */
  path(rest: string): string {
    return `${this.prefix}/${rest}`;
  }

  /** Archer's GET-with-a-body: POST with X-Http-Method-Override and the OData query as Value. */
  search(rest: string, odata: string): Promise<unknown> {
    return this.call({
      method: "POST",
      path: this.path(rest),
      headers: { "x-http-method-override": "GET" },
      json: { Value: odata },
    });
  }

  /**
   * Every item of a metadata listing, page by page with $top/$skip. The server may cap the page
   * below $top (a configurable server setting), so only an empty page ends the listing.
   */
  async all<T>(rest: string, schema: z.ZodType<T>, what: string): Promise<T[]> {
    const out: T[] = [];
    let previous = "";
    for (;;) {
      const query = `?$top=${this.pageSize}&$skip=${out.length}`;
      const page = unwrapList(await this.search(rest, query), schema, what);
      if (page.length === 0) return out;
      // A server that ignores $skip would repeat page one forever.
      const first = JSON.stringify(page[0]);
      if (first === previous) {
        throw new ArcherError("ARCHER_RESPONSE_INVALID", `${what}: Archer ignored $skip (a page repeated)`);
      }
      previous = first;
      out.push(...page);
    }
  }

  /** The OData Content API lives beside the platform API, at contentapi/. */
  contentApi(levelAlias: string, query: Query): Promise<unknown> {
    return this.call({ method: "GET", path: `contentapi/${encodeURIComponent(levelAlias)}`, query });
  }
}
