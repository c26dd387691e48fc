import { parse as parseYaml } from "yaml";
import { z } from "zod";
import { formatIssues } from "../../core/zod-issues.js";
import { SealgateError } from "../../core/errors.js";
import type { ModelCardRef } from "../../record/schema.js";
import type { EvidenceStore } from "../../evidence/store/evidence-store.js";

/*
 * The machine-readable model card a model team ships among a version's artefacts (YAML or
 * JSON). sealgate seals its exact bytes, shows its intended use and limitations to approvers,
 * and the gate refuses a deployment target the card does not declare. Other keys are allowed
 * (cards carry much more) and kept in the sealed bytes.
 */

export const ModelCard = z.looseObject({
  intendedUse: z.string().min(1).describe("what the model is for, in the team's words"),
  limitations: z
    .union([
      z
        .string()
        .min(1)
        .transform((s) => [s]),
      z.array(z.string().min(1)),
    ])
    .describe("known limitations: one text or a list"),
  deploymentTargets: z
    .array(z.string().min(1))
    .min(1)
    .describe("environments the model may be deployed to; the gate refuses any other"),
});
export type ModelCard = z.infer<typeof ModelCard>;

/** Where cards are looked for, first match wins: the model's own files, then the run's artefacts. */
export const DEFAULT_MODEL_CARD_PATHS = ["model_card.yaml", "model_card.yml", "model_card.json"];

export function parseModelCard(bytes: Uint8Array, where: string): ModelCard {
  let raw: unknown;
  try {
    // YAML 1.2 is a superset of JSON, so one parser reads both.
    raw = parseYaml(Buffer.from(bytes).toString("utf8"));
  } catch (cause) {
    throw new SealgateError("GOVERNANCE_INCOMPLETE", `model card ${where} is not valid YAML or JSON`, {
      cause,
    });
  }
  const r = ModelCard.safeParse(raw);
  if (!r.success) {
    throw new SealgateError(
      "GOVERNANCE_INCOMPLETE",
      `model card ${where} is incomplete (schema: schemas/model-card.schema.json):\n${formatIssues(r.error.issues)}`,
    );
  }
  return r.data;
}

export async function sealModelCard(
  bytes: Uint8Array,
  path: string,
  where: string,
  store: EvidenceStore,
): Promise<ModelCardRef> {
  const card = parseModelCard(bytes, where);
  return {
    object: await store.put(bytes),
    path,
    intendedUse: card.intendedUse,
    limitations: card.limitations,
    targets: card.deploymentTargets,
  };
}
