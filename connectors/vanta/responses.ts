import { z } from "zod";
import { responseParser } from "../../src/core/http/errors.js";
import { VantaError } from "./errors.js";

/*
 * What Vanta answers, as far as the connector relies on it. Responses are untrusted: each is
 * parsed here, unknown fields are dropped, and a wrong shape is a typed error naming the
 * endpoint and the field.
 */

export const TokenResponse = z.object({
  access_token: z.string().min(1),
  expires_in: z.number().positive(),
  token_type: z.string().optional(),
});

export const Document = z.object({
  id: z.string().min(1),
  title: z.string(),
  uploadStatus: z.string().optional(),
  url: z.string().optional(),
});
export type Document = z.infer<typeof Document>;

export const Upload = z.object({
  id: z.string().min(1),
  fileName: z.string().nullable(),
  deletionDate: z.string().nullable().optional(),
});
export type Upload = z.infer<typeof Upload>;

/** Vanta's cursor page: `{results: {data, pageInfo}}`. */
export function Page<T extends z.ZodType>(item: T) {
  return z.object({
    results: z.object({
      data: z.array(item),
      pageInfo: z.object({
        hasNextPage: z.boolean(),
        endCursor: z.string().nullable().optional(),
      }),
    }),
  });
}

/** Parse a Vanta response or fail naming the endpoint and the offending field. */
export const parseResponse = responseParser("Vanta", VantaError, "VANTA_RESPONSE_INVALID");
