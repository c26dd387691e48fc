import { z } from "zod";
import { responseParser } from "../../src/core/http/errors.js";
import { ServiceNowError } from "./errors.js";

/*
 * What the instance answers, as far as the connector relies on it. Every body is untrusted:
 * parsed here, unknown fields dropped, a wrong shape a typed error naming endpoint and field.
 * The Table API returns every value as a string; references as {link, value} unless
 * sysparm_exclude_reference_link=true, so both shapes are accepted and reduced to the value.
 */

const Value = z.union([
  z.string(),
  z.object({ value: z.string() }).transform((r) => r.value),
  z.object({ link: z.string() }).transform(() => ""),
]);
const SysId = z.string().regex(/^[0-9a-f]{32}$/, { message: "sys_id must be 32 lowercase hex digits" });
const Count = z.string().regex(/^\d+$/).transform(Number);

export const TokenResponse = z.object({
  access_token: z.string().min(1),
  refresh_token: z.string().min(1).optional(),
  token_type: z.string().refine((t) => t.toLowerCase() === "bearer", { message: "expected Bearer" }),
  expires_in: z.union([z.number(), Count]).pipe(z.number().int().positive()),
  scope: z.string().optional(),
});
export type TokenResponse = z.infer<typeof TokenResponse>;

/** One Table API row: sys_id plus whatever columns were asked for, as strings. */
export const TableRow = z.looseObject({ sys_id: SysId }).transform((row) => {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(row)) {
    const parsed = Value.safeParse(v);
    if (parsed.success) out[k] = parsed.data;
  }
  return out as Record<string, string> & { sys_id: string };
});
export const TableList = z.object({ result: z.array(TableRow) });
export const TableCreated = z.object({ result: TableRow });

export const Attachment = z.object({
  sys_id: SysId,
  file_name: z.string(),
  size_bytes: Count,
  table_sys_id: Value,
  content_type: z.string().optional(),
});
export const AttachmentList = z.object({ result: z.array(Attachment) });
export const AttachmentCreated = z.object({ result: Attachment });

/** A sys_dictionary row: one column of one table (element "" is the table's own entry). */
export const DictionaryRow = z.object({
  name: Value,
  element: Value,
  internal_type: Value,
  max_length: Value.optional(),
  mandatory: Value.optional(),
  read_only: Value.optional(),
  active: Value.optional(),
  default_value: Value.optional(),
});
export type DictionaryRow = z.infer<typeof DictionaryRow>;
export const DictionaryList = z.object({ result: z.array(DictionaryRow) });

/** A sys_db_object row: a table and the table it extends (super_class is a reference). */
export const DbObjectList = z.object({
  result: z.array(z.object({ sys_id: SysId, name: Value, super_class: Value.optional() })),
});

/** Parse a ServiceNow response or fail naming the endpoint and the offending field. */
export const parseResponse = responseParser("ServiceNow", ServiceNowError, "SERVICENOW_RESPONSE_INVALID");
