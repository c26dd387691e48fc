import { ModelCard } from "../governance/review/model-card.js";
import { AnnotationAssertion } from "../crypto/sign/annotation.js";
import { z } from "zod";
import { SealgateConfig } from "./config/schema.js";
import { ModelManifest } from "../source/digest/model.js";
import { MappingFile } from "../delivery/mapping/schema.js";
import { Policy } from "../policy/schema.js";
import { PromotionRecord, ReviewPackage } from "../record/schema.js";
import { Seal } from "../record/seal.js";
import { ApprovalAssertion } from "../crypto/sign/approval.js";
import { BundleIndex, InclusionFile } from "../bundle/layout.js";
import { WorkflowEvent } from "../record/event.js";

/**
 * Every published JSON Schema, generated from the zod definitions (the single source of
 * truth). `npm run schemas` rewrites schemas/; a test fails when a file there drifts.
 */
export const PUBLISHED_SCHEMAS: Record<string, z.ZodType> = {
  "config.schema.json": SealgateConfig,
  "approval.schema.json": ApprovalAssertion,
  "promotion-record.schema.json": PromotionRecord,
  "review-package.schema.json": ReviewPackage,
  "model-manifest.schema.json": ModelManifest,
  "policy.schema.json": Policy,
  "model-card.schema.json": ModelCard,
  "annotation.schema.json": AnnotationAssertion,
  "mapping.schema.json": MappingFile,
  "bundle.schema.json": BundleIndex,
  "bundle-inclusion.schema.json": InclusionFile,
  "event.schema.json": WorkflowEvent,
  "seal.schema.json": Seal,
};

export function renderSchema(file: string, schema: z.ZodType): string {
  const json = z.toJSONSchema(schema, { io: "input", unrepresentable: "any", target: "draft-2020-12" });
  return `${JSON.stringify({ title: `sealgate ${file.replace(/\.schema\.json$/, "")}`, ...json }, null, 2)}\n`;
}
