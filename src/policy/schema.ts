import { readFile } from "node:fs/promises";
import { parse as parseYaml } from "yaml";
import { z } from "zod";
import { formatIssues } from "../core/zod-issues.js";
import { SealgateError } from "../core/errors.js";
import { digestOf } from "../core/digest.js";

/*
 * Governance policy as code: which changes are material, which ordered chain of roles each tier
 * needs, and who may act in which role when. The file's SHA-256 is sealed into every record,
 * so a record always says which rules it was judged by.
 */

const Iso = z.iso.datetime({ offset: true });
const Role = z.string().regex(/^[a-z][a-z0-9-]*$/, { message: "roles are lowercase words joined by '-'" });

const Rule = z.discriminatedUnion("kind", [
  z.strictObject({ kind: z.literal("feature-set-change"), tier: z.string() }),
  z.strictObject({ kind: z.literal("flavor-change"), tier: z.string() }),
  z.strictObject({
    kind: z.literal("metric-band"),
    metric: z.string().min(1),
    maxDrop: z.number().nonnegative().default(0),
    maxRise: z.number().nonnegative().optional(),
    tier: z.string(),
  }),
  z.strictObject({
    kind: z.literal("population-shift"),
    from: z.enum(["metric", "tag"]),
    name: z.string().min(1),
    threshold: z.number().positive(),
    tier: z.string(),
  }),
  z.strictObject({ kind: z.literal("new-deployment-context"), tier: z.string() }),
  z.strictObject({ kind: z.literal("dataset-not-content-addressed"), tier: z.string() }),
  z.strictObject({ kind: z.literal("feature-pipeline-change"), tier: z.string() }),
]);
export type Rule = z.infer<typeof Rule>;

const Approver = z
  .strictObject({
    name: z.string().min(1).describe("for people reading the policy; identity comes from the certificate"),
    id: z
      .string()
      .min(1)
      .optional()
      .describe("stable person id; every entry of one person carries the same id (default: the email)"),
    roles: z.array(Role).min(1),
    fingerprint: z
      .string()
      .regex(/^[0-9a-f]{64}$/)
      .optional()
      .describe("SHA-256 of the DER certificate"),
    subject: z.string().optional(),
    issuer: z.string().optional(),
    email: z
      .string()
      .regex(/^[^@\s]+@[^@\s]+$/, { message: "an email address" })
      .optional()
      .describe("the certificate's SAN email (rfc822Name), compared ignoring ASCII case"),
    effectiveFrom: Iso,
    effectiveUntil: Iso.optional(),
  })
  .refine((a) => a.fingerprint || a.email || (a.subject && a.issuer), {
    message: "name the certificate by email, by fingerprint, or by subject and issuer",
  });
export type Approver = z.infer<typeof Approver>;

export const Policy = z
  .strictObject({
    version: z.string().min(1),
    /** Versions registered before this are pre-discipline: never sealed as approved. */
    effectiveFrom: Iso,
    tiers: z.record(z.string(), z.strictObject({ chain: z.array(Role).min(1) })),
    defaultTier: z.string(),
    rules: z.array(Rule).default([]),
    thresholds: z
      .record(z.string(), z.strictObject({ min: z.number().optional(), max: z.number().optional() }))
      .default({}),
    approvers: z.array(Approver).default([]),
    /** Emails of model owners, who may not approve their own models. */
    owners: z.array(z.string()).default([]),
  })
  .superRefine((p, ctx) => {
    if (!p.tiers[p.defaultTier]) {
      ctx.addIssue({
        code: "custom",
        path: ["defaultTier"],
        message: `tier ${p.defaultTier} is not defined under tiers`,
      });
    }
    p.rules.forEach((r, i) => {
      if (!p.tiers[r.tier])
        ctx.addIssue({
          code: "custom",
          path: ["rules", i, "tier"],
          message: `tier ${r.tier} is not defined under tiers`,
        });
    });
  });
export type Policy = z.infer<typeof Policy>;

export interface LoadedPolicy {
  policy: Policy;
  /** `sha256:` of the policy file's bytes, sealed into each record. */
  digest: string;
  /** The file's exact bytes: stored as an object at each seal so a bundle can carry the policy. */
  bytes: Uint8Array;
}

export function parsePolicy(bytes: Uint8Array, source: string): LoadedPolicy {
  let raw: unknown;
  try {
    raw = parseYaml(Buffer.from(bytes).toString("utf8"));
  } catch (cause) {
    throw new SealgateError("CONFIG_INVALID", `policy ${source} is not valid YAML`, { cause });
  }
  const r = Policy.safeParse(raw);
  if (!r.success)
    throw new SealgateError(
      "CONFIG_INVALID",
      `policy ${source} is invalid:\n${formatIssues(r.error.issues)}`,
    );
  const digest = digestOf(bytes);
  return { policy: r.data, digest, bytes: Uint8Array.from(bytes) };
}

export async function loadPolicy(path: string): Promise<LoadedPolicy> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (cause) {
    throw new SealgateError(
      "CONFIG_INVALID",
      `cannot read policy ${path} (write one from config/policy.example.yaml)`,
      { cause },
    );
  }
  return parsePolicy(bytes, path);
}
