import { z } from "zod";
import { ArcherError } from "./errors.js";

/*
 * What Archer answers, as far as sealgate relies on it. Responses are untrusted: every one is
 * parsed here. Archer wraps everything in {Links, RequestedObject, IsSuccessful,
 * ValidationMessages}; lists are arrays of such envelopes, and a failure can arrive with HTTP
 * 200 and IsSuccessful false, so success is decided by the envelope, never by the status.
 */

export const ValidationMessage = z.looseObject({
  Reason: z.string().nullish(),
  Severity: z.number().nullish(),
  MessageKey: z.string().nullish(),
  Description: z.string().nullish(),
  ResourcedMessage: z.string().nullish(),
});

const Envelope = z.looseObject({
  RequestedObject: z.unknown().optional(),
  IsSuccessful: z.boolean(),
  ValidationMessages: z.array(ValidationMessage).nullish(),
});

export const Id = z.int().positive();

export const LoginResult = z.looseObject({ SessionToken: z.string().min(16) });
export const Created = z.looseObject({ Id });
export const Application = z.looseObject({ Id, Name: z.string() });
export const Level = z.looseObject({ Id, Name: z.string(), Alias: z.string().min(1) });
export type Level = z.infer<typeof Level>;
export const FieldDefinition = z.looseObject({
  Id,
  Name: z.string(),
  Alias: z.string().min(1),
  Type: z.int(),
  IsRequired: z.boolean().default(false),
  RelatedValuesListId: Id.nullish(),
  LevelId: Id,
});
export type FieldDefinition = z.infer<typeof FieldDefinition>;
export const ValuesListValue = z.looseObject({ Id, Name: z.string() });
export type ValuesListValue = z.infer<typeof ValuesListValue>;
export const Content = z.looseObject({
  Id,
  LevelId: Id,
  FieldContents: z.record(z.string(), z.looseObject({ Type: z.int(), Value: z.unknown() })),
});
export type Content = z.infer<typeof Content>;
export const Attachment = z.looseObject({
  AttachmentName: z.string().min(1),
  AttachmentBytes: z.string().regex(/^[A-Za-z0-9+/]*={0,2}$/, { message: "must be base64" }),
});
/** The Content API (OData) answers `{ value: [...] }` with one object per record. */
export const ContentApiPage = z.looseObject({ value: z.array(z.record(z.string(), z.unknown())) });

/** The readable reason inside an envelope's ValidationMessages. */
export function reasons(messages: z.infer<typeof ValidationMessage>[] | null | undefined): string {
  const text = (messages ?? [])
    .map((m) => m.ResourcedMessage ?? m.Description ?? m.MessageKey ?? m.Reason)
    .filter((m): m is string => Boolean(m))
    .join("; ");
  return text.length > 500 ? `${text.slice(0, 500)}…` : text || "no reason given";
}

/** The RequestedObject of one envelope, or a SealgateError naming the call and the reason. */
export function unwrap<T>(raw: unknown, schema: z.ZodType<T>, what: string): T {
  const env = parse(Envelope, raw, what);
  if (!env.IsSuccessful) {
    throw new ArcherError("ARCHER_REJECTED", `${what}: Archer refused: ${reasons(env.ValidationMessages)}`);
  }
  return parse(schema, env.RequestedObject, `${what} RequestedObject`);
}

/** A list endpoint: an array of envelopes, each of which must have succeeded. */
export function unwrapList<T>(raw: unknown, schema: z.ZodType<T>, what: string): T[] {
  return parse(z.array(z.unknown()), raw, what).map((item, i) => unwrap(item, schema, `${what}[${i}]`));
}

export function parse<T>(schema: z.ZodType<T>, raw: unknown, what: string): T {
  const result = schema.safeParse(raw);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const path = issue?.path.length ? issue.path.join(".") : "(root)";
  throw new ArcherError(
    "ARCHER_RESPONSE_INVALID",
    `${what}: unexpected answer from Archer at ${path}: ${issue?.message ?? "invalid"}`,
  );
}
