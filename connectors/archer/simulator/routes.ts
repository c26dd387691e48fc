import { z } from "zod";
import type { ContentStore } from "./content.js";
import { ContentBody } from "./content.js";
import { aspnet, fail, ok, okList, type Reply } from "./envelope.js";
import { ODataError, type ODataQuery, page, parseOData } from "./odata.js";

/** One request after transport concerns (faults, auth, JSON) were dealt with. */
export interface SimRequest {
  /** Effective method: POST + X-Http-Method-Override: GET counts as GET. */
  method: string;
  /** Path below the prefix, e.g. "core/content/206000". */
  route: string;
  body: unknown;
  /** OData from the body's Value (method override) or from the URL (Content API). */
  odata: string | URLSearchParams;
  baseUrl: string;
}

/** Routes of the platform API (below platformapi/ or api/) that need a session. */
export function platformRoute(req: SimRequest, store: ContentStore, cap: number): Reply {
  const { method, route } = req;
  const meta = store.meta;
  let m: RegExpExecArray | null;
  const listed = <T>(items: T[]) => withOData(req, (q) => okList(page(items, q, cap)));
  if (route === "core/system/application") {
    return (
      only(method, "GET") ??
      listed(meta.applications.map((a) => ({ ...a, Alias: a.Name.replace(/\W+/g, "_") })))
    );
  }
  if ((m = /^core\/system\/level\/module\/(\d+)$/.exec(route))) {
    const moduleId = Number(m[1]);
    return only(method, "GET") ?? listed(meta.levels.filter((l) => l.ModuleId === moduleId));
  }
  if ((m = /^core\/system\/fielddefinition\/level\/(\d+)$/.exec(route))) {
    return only(method, "GET") ?? listed(store.fieldsOf(Number(m[1])));
  }
  if ((m = /^core\/system\/valueslistvalue\/valueslist\/(\d+)$/.exec(route))) {
    const values = meta.valuesLists.get(Number(m[1])) ?? [];
    return only(method, "GET") ?? listed(values.map((v) => ({ ...v, ValuesListId: Number(m?.[1]) })));
  }
  if (route === "core/content") {
    if (method !== "POST" && method !== "PUT")
      return aspnet(405, `The requested resource does not support http method '${method}'.`);
    const parsed = ContentBody.safeParse(req.body);
    if (!parsed.success)
      return fail(
        400,
        "InvalidRequest",
        "The request body is not a valid content object.",
        "RequestValidator",
      );
    return method === "POST" ? store.create(parsed.data.Content) : store.update(parsed.data.Content);
  }
  if (route === "core/content/attachment") {
    if (method !== "POST")
      return aspnet(405, `The requested resource does not support http method '${method}'.`);
    const parsed = z
      .object({ AttachmentName: z.string().min(1), AttachmentBytes: z.string() })
      .safeParse(req.body);
    if (!parsed.success)
      return fail(
        400,
        "InvalidRequest",
        "AttachmentName and AttachmentBytes are required.",
        "RequestValidator",
      );
    return store.addAttachment(parsed.data.AttachmentName, parsed.data.AttachmentBytes);
  }
  if ((m = /^core\/content\/attachment\/(\d+)$/.exec(route))) {
    const att = store.attachments.get(Number(m[1]));
    if (method !== "GET")
      return aspnet(405, `The requested resource does not support http method '${method}'.`);
    if (!att) return fail(404, "NotFound", `The attachment ${m[1]} does not exist.`);
    return ok({ AttachmentName: att.name, AttachmentBytes: att.bytes.toString("base64") });
  }
  if ((m = /^core\/content\/(\d+)$/.exec(route))) {
    const record = store.records.get(Number(m[1]));
    if (method === "DELETE") {
      store.records.delete(Number(m[1]));
      return ok(null);
    }
    if (method !== "GET")
      return aspnet(405, `The requested resource does not support http method '${method}'.`);
    if (!record)
      return fail(404, "NotFound", `The content ${m[1]} does not exist or you do not have access to it.`);
    return ok(store.render(record));
  }
  return aspnet(404, `No HTTP resource was found that matches the request URI '${req.baseUrl}/${route}'.`);
}

/** GET contentapi/{LevelAlias}: OData over records, keyed by field aliases. */
export function contentApiRoute(req: SimRequest, alias: string, store: ContentStore): Reply {
  if (req.method !== "GET")
    return aspnet(405, `The requested resource does not support http method '${req.method}'.`);
  const level = store.meta.levels.find((l) => l.Alias === alias);
  if (!level)
    return { status: 404, body: { error: { code: "", message: `No level with alias '${alias}'.` } } };
  const fields = store.fieldsOf(level.Id);
  const idKey = `${alias}_Id`;
  return withOData(req, (q) => {
    const rows = [...store.records.values()]
      .filter((r) => r.LevelId === level.Id)
      .map((r) =>
        Object.fromEntries([[idKey, r.Id], ...fields.map((f) => [f.Alias, r.values.get(f.Id) ?? null])]),
      );
    const known = new Set([idKey, ...fields.map((f) => f.Alias)]);
    for (const p of [...(q.select ?? []), ...(q.filter ? [q.filter.property] : [])]) {
      if (!known.has(p)) throw new ODataError(`Could not find a property named '${p}' on type '${alias}'.`);
    }
    const matching = q.filter ? rows.filter((r) => r[q.filter?.property ?? ""] === q.filter?.value) : rows;
    const selected = page(matching, q, 1000).map((r) =>
      q.select ? Object.fromEntries(q.select.map((k) => [k, r[k]])) : r,
    );
    return {
      status: 200,
      body: { "@odata.context": `${req.baseUrl}/contentapi/$metadata#${alias}`, value: selected },
    };
  });
}

function withOData(req: SimRequest, fn: (q: ODataQuery) => Reply): Reply {
  try {
    return fn(parseOData(req.odata));
  } catch (err) {
    if (err instanceof ODataError)
      return { status: 400, body: { error: { code: "", message: err.message } } };
    throw err;
  }
}

function only(method: string, allowed: string): Reply | null {
  return method === allowed
    ? null
    : aspnet(405, `The requested resource does not support http method '${method}'.`);
}
