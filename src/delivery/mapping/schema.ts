import { z } from "zod";

/*
 * An admin's mapping file for one destination: where records go (`target:`, validated by the
 * connector's own schema), which target field gets which value, and which evidence files are
 * attached. Compiled and checked when config loads (compile.ts), never at push time.
 */

/** Every evidence file a mapping may attach; see src/delivery/engine/files.ts for what each one is. */
export const ATTACHMENT_NAMES = [
  "evidence.json",
  "record.json",
  "record.jws",
  "record.p7s",
  "record.pdf",
  "bundle.zip",
] as const;
export type AttachmentName = (typeof ATTACHMENT_NAMES)[number];

export const FieldValue = z.union([
  z
    .string()
    .describe(
      'template: text with {{digest}} or {{record.<path>}}, e.g. "Model {{record.model.name}} v{{record.model.version}}"',
    ),
  z
    .strictObject({ static: z.union([z.string(), z.number(), z.boolean(), z.null()]) })
    .describe("a fixed value written as is"),
]);
export type FieldValue = z.infer<typeof FieldValue>;

export const MappingFile = z.strictObject({
  target: z
    .unknown()
    .describe("destination settings: ServiceNow table, Vanta document, Archer application and level"),
  fields: z
    .record(z.string().min(1), FieldValue)
    .describe("target field name -> template or {static: value}"),
  attachments: z
    .array(z.enum(ATTACHMENT_NAMES))
    .min(1)
    .default(["evidence.json", "record.pdf"])
    .describe("evidence files to attach, each at most once"),
});
export type MappingFile = z.infer<typeof MappingFile>;
