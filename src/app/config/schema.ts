import { z } from "zod";
import { CONNECTORS } from "../../../connectors/index.js";
import { MlflowConfig } from "../../../connectors/sources.js";
import { DaemonConfig } from "../../pipeline/daemon/config.js";
import { DEFAULT_MODEL_CARD_PATHS } from "../../governance/review/model-card.js";
import { destinationsSchema } from "./destinations.js";

/** A signing key on disk; passphrases are `${ENV}` or `file:` references, never literals. */
const KeySource = z.discriminatedUnion("type", [
  z.strictObject({
    type: z.literal("pem"),
    key: z.string().min(1).describe("PEM private key file"),
    cert: z.string().min(1).describe("PEM certificate chain, leaf first"),
    passphrase: z.string().optional().describe("${ENV_VAR} or file:/path, if the key is encrypted"),
  }),
  z.strictObject({
    type: z.literal("pkcs12"),
    file: z.string().min(1).describe("PKCS#12 (.p12/.pfx) holding key and chain"),
    passphrase: z.string().describe("${ENV_VAR} or file:/path"),
  }),
]);

/** The whole sealgate config file. Unknown keys are errors: a typo must never be ignored. */
export const SealgateConfig = z.strictObject({
  mlflow: MlflowConfig,
  store: z
    .strictObject({
      path: z.string().min(1).describe("directory of the evidence store (objects/ and ledger/)"),
    })
    .optional(),
  policy: z
    .string()
    .min(1)
    .optional()
    .describe("path of the governance policy file (see config/policy.example.yaml)"),
  sealing: z
    .strictObject({
      key: KeySource.describe("the organisation's sealing key: signs records, PDFs, checkpoints, evidence"),
    })
    .optional(),
  tsa: z
    .strictObject({
      url: z
        .url({ protocol: /^https?$/ })
        .describe("RFC 3161 time-stamp authority (HTTP POST application/timestamp-query)"),
      caFile: z
        .string()
        .min(1)
        .describe(
          "PEM CA certificate(s) the TSA's certificate chains to; every token is checked against it on receipt",
        ),
      policyOid: z
        .string()
        .regex(/^[0-2](\.(0|[1-9]\d*))+$/)
        .optional()
        .describe("TSA policy to request; a token under another policy is refused"),
      required: z
        .boolean()
        .describe(
          "true: nothing is sealed without a time-stamp (TSA_FAILED, exit 3); false: seal without one and warn",
        ),
    })
    .optional()
    .describe("time-stamp every sealed record's CMS (CAdES-T) and every checkpoint"),
  trust: z
    .strictObject({
      anchors: z.string().min(1).describe("PEM file of the organisation's root CA(s)"),
      intermediates: z.string().optional().describe("PEM file of intermediate CAs"),
      crls: z.array(z.string()).optional().describe("PEM CRLs"),
    })
    .optional(),
  approvals: z
    .strictObject({
      tagValueLimit: z
        .int()
        .min(100)
        .default(5000)
        .describe(
          "longest approval written into an MLflow tag; longer ones are stored and referenced by digest",
        ),
    })
    .default({ tagValueLimit: 5000 }),
  events: z
    .strictObject({
      maxClockSkew: z
        .int()
        .min(0)
        .max(86_400)
        .default(300)
        .describe(
          "seconds a signed event's claimed time (and an approval's signedAt) may differ from sealgate's append time; further off is refused",
        ),
    })
    .prefault({})
    .describe("workflow events appended to the ledger as they happen"),
  modelCard: z
    .strictObject({
      paths: z
        .array(z.string().min(1))
        .min(1)
        .default(DEFAULT_MODEL_CARD_PATHS)
        .describe("where a version's model card may be, first match wins: the model's files, then the run's"),
    })
    .default({ paths: DEFAULT_MODEL_CARD_PATHS }),
  sync: z
    .strictObject({
      concurrency: z
        .int()
        .min(1)
        .max(16)
        .default(4)
        .describe(
          "versions a sync pass seals at once, so their MLflow round trips and fsync waits overlap (the ledger keeps one writer)",
        ),
    })
    .prefault({}),
  destinations: destinationsSchema(CONNECTORS).optional(),
  daemon: DaemonConfig.prefault({}),
});
export type SealgateConfig = z.infer<typeof SealgateConfig>;
